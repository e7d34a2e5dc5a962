"""What a person reads: report.html (rendered in headless Chromium), stats, explain colour, run logs."""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.output import report, write

from ..conftest import PROJECT

NEW_PAGE = ("用户运营和社群运营的区别\n\n用户运营负责拉新、促活和留存，关注用户的整个生命周期。\n\n"
            "社群运营负责维护社群氛围，组织群内的活动和讨论。\n")
CHANGED_PAGE = ("用户运营和社群运营的区别\n\n用户运营负责拉新、促活和留存，关注用户的整个生命周期。\n\n"
                "社群运营负责制定社群规则，并筛选和培养群内的核心成员。\n")
WEATHER = "今日天气\n\n今天天气晴朗，适合出门散步。\n\n明天可能有小雨，记得带伞。\n"


@pytest.fixture
def two_nights(tmp_path: Path) -> Path:
    """An output folder after two nights: raw/ plus a page; then that page changed (a claim gone, one
    added), a page about the weather (no claims) and a broken file (a failure)."""
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(PROJECT / "raw", raw)
    (raw / "new_page.txt").write_text(NEW_PAGE, encoding="utf-8")
    assert main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "1"]) == 0
    (raw / "new_page.txt").write_text(CHANGED_PAGE, encoding="utf-8")
    (raw / "weather.txt").write_text(WEATHER, encoding="utf-8")
    (raw / "broken.html.gz").write_bytes(b"\x1f\x8b not really gzip")
    assert main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "1"]) == 1
    return out


def stats(folder: Path) -> str:
    result = cli("stats", str(folder))
    assert result.returncode == 0
    return result.stdout


def test_report_is_self_contained_and_shows_the_night(two_nights: Path) -> None:
    page = (two_nights / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(|@import|<script""", page)  # nothing fetched
    assert page.count("<svg") >= 10  # charts, not only tables
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert counts["claims_added"] == 1 and counts["claims_gone"] == 1
    assert "社群运营负责制定社群规则" in page and "社群运营负责维护社群氛围" in page  # added, and gone
    assert "社群运营 (social_group_operations)" in page  # a role by its name, with its id
    assert manifest["outputs"]["report.html"]["sha256"] == write.sha256_file(two_nights / "report.html")


def headings(page: str) -> list[str]:
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<h2>(.*?)</h2>", page)]


def test_report_and_stats_show_the_same_sections_each_saying_what_it_counts(two_nights: Path) -> None:
    page = (two_nights / "report.html").read_text(encoding="utf-8")
    titles = headings(page)
    assert [line.removeprefix("!! ").removeprefix("== ") for line in stats(two_nights).splitlines()
            if line.startswith(("== ", "!! == "))] == titles
    assert all(t.endswith((" — tonight", " — all nights", " — the last 2 nights")) for t in titles)
    for wanted in ("Text kept per page", "Pages that gave no claims, and why", "Most supported claims",
                   "Since the previous night", "Trend", "Where the time went", "What was removed, and why"):
        assert any(t.startswith(wanted + " — ") for t in titles), wanted


def test_failures_are_a_banner_at_the_top(two_nights: Path) -> None:
    page = (two_nights / "report.html").read_text(encoding="utf-8")
    first = page.index("<section")
    assert page.startswith("<section class=alert role=alert><h2>1 input failed", first)
    assert "broken.html.gz" in page[first:page.index("</section>", first)]
    assert stats(two_nights).splitlines()[2] == "!! == 1 input failed — tonight"


def test_a_cut_list_says_how_many_more(two_nights: Path) -> None:
    page = (two_nights / "report.html").read_text(encoding="utf-8")
    claims = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))["counts"]["claims"]
    assert claims > report.TOP
    assert f"+{claims - report.TOP} more" in page  # the most supported claims: the first TOP of every claim
    assert f"  +{claims - report.TOP} more" in stats(two_nights).splitlines()


def test_pages_without_claims_say_why_and_the_night_counts_them(two_nights: Path) -> None:
    text = stats(two_nights)
    assert re.search(r"^  no sentence names a role, nor its heading or the title +1 +1$", text, re.M)
    assert re.search(r"^  weather\.txt +今日天气 +no sentence names a role", text, re.M)
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["pages_without_claims"] == {"no_role": 1}


def test_the_trend_has_a_line_a_night(two_nights: Path) -> None:
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    first, second = manifest["nights"]
    assert first["ingested"] == 5 and first["claims_added"] == first["claims"]
    assert second == {"run_id": manifest["run_id"], "pages_in": 7, "ingested": 2, "failed": 1, "claims_added": 1,
                      "claims_gone": 1, "claims": first["claims"], "seconds": second["seconds"]}
    assert re.search(rf"^  {manifest['run_id']} +7 +2 +1 +1 +1 +{first['claims']} ", stats(two_nights), re.M)


def test_stage_timings_are_in_the_manifest(two_nights: Path) -> None:
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    stages = manifest["counts"]["stages"]
    assert list(stages) == ["decode", "extract", "normalise", "boilerplate", "markup", "segment", "roles", "claims"]
    assert all(s["docs_in"] == 2 and s["seconds"] >= 0 for s in stages.values())  # the two pages read tonight
    assert sum(s["seconds"] for s in stages.values()) > 0
    steps = manifest["seconds_by_step"]
    assert list(steps) == ["setup", "pages", "templates", "dedup", "write", "report"]
    assert sum(steps.values()) <= manifest["seconds"] + 0.01


def test_unchanged_night_gets_its_own_report_and_leaves_the_last_one_alone(two_nights: Path, tmp_path: Path) -> None:
    keep = tmp_path / "kept.html"
    shutil.copy(two_nights / "report.html", keep)
    linked = [two_nights / name for name in write.CORPUS_FILES]
    assert main(["ingest", str(tmp_path / "raw"), "--out", str(two_nights), "-q", "--workers", "1"]) == 1
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["inputs"] == {"failed": 1, "unchanged": 6} and manifest["counts"]["claims_added"] == 0
    assert manifest["run_id"] in (two_nights / "report.html").read_text(encoding="utf-8")
    assert len(manifest["nights"]) == 3
    assert all(p.stat().st_nlink == 1 for p in linked)  # the previous folder was removed after the swap
    assert keep.read_text(encoding="utf-8") != (two_nights / "report.html").read_text(encoding="utf-8")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium (make test installs it)")
        pytest.skip("no Chromium on this machine")
    return path


HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def render(report: Path, png: Path, width: int = 1280, height: int = 5200) -> str:
    """Screenshot the page into png with headless Chromium; the DOM it rendered."""
    with tempfile.TemporaryDirectory() as profile:
        args = [chromium(), *HEADLESS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        subprocess.run([*args, f"--screenshot={png}", report.as_uri()], capture_output=True, timeout=120, check=True)
        return subprocess.run([*args, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120,
                              check=True).stdout


def test_report_renders_in_headless_chromium(two_nights: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    dom = render(two_nights / "report.html", png)
    assert dom.count("<section") == len(report.sections(report.figures(two_nights))) == 14 and "<svg" in dom
    for title in ("Text kept per page", "Pages that gave no claims, and why", "Most supported claims", "Trend"):
        assert f"<h2>{title} <small>" in dom
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 5200)
    assert png.stat().st_size > 50_000  # a page of charts and text, not a blank one
    if os.environ.get("REPORT_SCREENSHOT"):  # docs/report.png is made this way
        shutil.copy(png, os.environ["REPORT_SCREENSHOT"])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=PROJECT,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})


def test_stats_prints_the_key_figures(two_nights: Path) -> None:
    text = stats(two_nights)
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    claims = re.search(r"^  claims +([\d,]+)$", text, re.M)
    assert claims is not None and int(claims.group(1).replace(",", "")) == manifest["counts"]["claims"]
    for title in ("pages by encoding", "removed by rule family", "claims by role", "claims by type"):
        assert f"\n{title}\n" in text
    assert cli("stats", str(two_nights / "absent")).returncode == 2


def test_explain_is_plain_when_piped_and_coloured_when_asked() -> None:
    piped = cli("explain", "raw/article_rules.html")
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout
    coloured = cli("explain", "raw/article_rules.html", "--color", "always")
    assert "\x1b[31m - DROP" in coloured.stdout and "\x1b[0m" in coloured.stdout


def test_json_logs_end_with_the_run_summary(tmp_path: Path) -> None:
    result = cli("ingest", "raw", "--out", str(tmp_path / "clean"), "--workers", "1", "--log-format", "json")
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]  # every line is JSON
    last = lines[-1]
    assert last["level"] == "INFO" and last["pages_in"] == 4 and last["ingested"] == 4 and last["failed"] == 0
    assert last["claims_total"] == last["claims_new"] > 0 and last["seconds"] > 0
    text = cli("ingest", "raw", "--out", str(tmp_path / "clean"), "--workers", "1", "-q")  # cron: quiet, summary
    assert re.fullmatch(r"\S+: pages in 4 \(ingested 0, unchanged 4, dropped 0, failed 0\); skipped 0 other files; "
                        r"claims new 0, total \d+; [\d.]+s", text.stderr.strip())
