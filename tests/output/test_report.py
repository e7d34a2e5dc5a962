"""What a person reads: report.html (rendered in headless Chromium), stats, explain colour, run logs."""

from __future__ import annotations

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
from pipeline.output import write

from ..conftest import PROJECT

NEW_PAGE = ("用户运营和社群运营的区别\n\n用户运营负责拉新、促活和留存，关注用户的整个生命周期。\n\n"
            "社群运营负责维护社群氛围，组织群内的活动和讨论。\n")


@pytest.fixture
def two_nights(tmp_path: Path) -> Path:
    """An output folder after two nights: raw/, then raw/ plus a page with new claims."""
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(PROJECT / "raw", raw)
    assert main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "1"]) == 0
    (raw / "new_page.txt").write_text(NEW_PAGE, encoding="utf-8")
    assert main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "1"]) == 0
    return out


def test_report_is_self_contained_and_shows_the_night(two_nights: Path) -> None:
    page = (two_nights / "report.html").read_text(encoding="utf-8")
    for title in ("What came in", "What was removed, and why", "Claims by role and type",
                  "Biggest near-duplicate clusters", "Since the previous night", "Failures"):
        assert f"<h2>{title}</h2>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(|@import|<script""", page)  # nothing fetched
    assert page.count("<svg") >= 6  # charts, not only tables
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["claims_added"] >= 2
    assert "社群运营负责维护社群氛围" in page  # listed among tonight's new claims
    assert manifest["outputs"]["report.html"]["sha256"] == write.sha256_file(two_nights / "report.html")


def test_unchanged_night_gets_its_own_report_and_leaves_the_last_one_alone(two_nights: Path, tmp_path: Path) -> None:
    keep = tmp_path / "kept.html"
    shutil.copy(two_nights / "report.html", keep)
    linked = [two_nights / name for name in write.CORPUS_FILES]
    assert main(["ingest", str(tmp_path / "raw"), "--out", str(two_nights), "-q", "--workers", "1"]) == 0
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["inputs"] == {"unchanged": 5} and manifest["counts"]["claims_added"] == 0
    assert manifest["run_id"] in (two_nights / "report.html").read_text(encoding="utf-8")
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


def render(report: Path, png: Path, width: int = 1280, height: int = 2400) -> str:
    """Screenshot the page into png with headless Chromium; the DOM it rendered."""
    with tempfile.TemporaryDirectory() as profile:
        args = [chromium(), *HEADLESS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        subprocess.run([*args, f"--screenshot={png}", report.as_uri()], capture_output=True, timeout=120, check=True)
        return subprocess.run([*args, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120,
                              check=True).stdout


def test_report_renders_in_headless_chromium(two_nights: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    dom = render(two_nights / "report.html", png)
    assert dom.count("<section>") == 6 and "<svg" in dom
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2400)
    assert png.stat().st_size > 50_000  # a page of charts and text, not a blank one
    if os.environ.get("REPORT_SCREENSHOT"):  # docs/report.png is made this way
        shutil.copy(png, os.environ["REPORT_SCREENSHOT"])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=PROJECT,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})


def test_stats_prints_the_key_figures(two_nights: Path) -> None:
    result = cli("stats", str(two_nights))
    assert result.returncode == 0
    manifest = json.loads((two_nights / "manifest.json").read_text(encoding="utf-8"))
    claims = re.search(r"^  claims +([\d,]+)$", result.stdout, re.M)
    assert claims is not None and int(claims.group(1).replace(",", "")) == manifest["counts"]["claims"]
    for title in ("pages by encoding", "removed by rule family", "claims by role", "claims by type"):
        assert f"\n{title}\n" in result.stdout
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
