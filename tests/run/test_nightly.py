"""Nightly operation end to end: incremental runs, crash safety, bad inputs (real runs of the CLI)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli.main import main
from pipeline.corpus import state
from pipeline.output import write

from ..conftest import PROJECT

RAW = PROJECT / "raw"


def ingest(raw: Path, out: Path, *extra: str) -> int:
    return main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "1", *extra])


def cli(raw: Path, out: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(raw), "--out", str(out), "-q",
                           "--workers", "2"], cwd=PROJECT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def digests(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in write.CORPUS_FILES}


def corpus(out: Path) -> tuple[list[tuple], list[tuple]]:
    """The corpus without run times: what must be equal whichever way the nights went."""
    claims = pd.read_parquet(out / "claims.parquet")
    docs = pd.read_parquet(out / "documents.parquet")
    return (sorted((r.claim_id, r.text, tuple(r.roles), r.claim_type, r.support, tuple(r.doc_ids))
                   for r in claims.itertuples()),
            sorted((r.doc_id, r.source_path, r.text, r.duplicate_of) for r in docs.itertuples()))


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def nights(tmp_path: Path) -> tuple[Path, Path]:
    """Night 1 has two of the sample pages, night 2 all four."""
    one, two = tmp_path / "night1", tmp_path / "night2"
    shutil.copytree(RAW, two)
    one.mkdir()
    for name in sorted(p.name for p in RAW.iterdir())[:2]:
        shutil.copy(RAW / name, one / name)
    return one, two


def test_second_run_over_unchanged_inputs_parses_nothing_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    assert ingest(RAW, out) == 0
    before = digests(out)
    assert ingest(RAW, out) == 0
    assert digests(out) == before
    m = manifest(out)
    assert set(m["counts"]["inputs"]) == {"unchanged"}
    assert m["counts"]["stages"] == {}  # no page went through any stage


def test_changed_input_replaces_its_contribution_and_ids_stay(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(RAW, raw)
    page = raw / "traditional_dump.txt"
    assert ingest(raw, out) == 0
    ids = {r.text: r.claim_id for r in pd.read_parquet(out / "claims.parquet").itertuples()}
    page.write_text(page.read_text(encoding="utf-8") + "\n\n社群運營負責維護微信群的活躍度與口碑。\n", encoding="utf-8")
    assert ingest(raw, out) == 0
    m = manifest(out)
    assert m["counts"]["inputs"] == {"ingested": 1, "unchanged": 3}
    claims = pd.read_parquet(out / "claims.parquet")
    assert any("社群运营负责维护微信群" in t for t in claims["text"])
    assert {r.text: r.claim_id for r in claims.itertuples() if r.text in ids} == {
        t: i for t, i in ids.items() if t in set(claims["text"])}
    assert claims["claim_id"].is_unique
    docs = pd.read_parquet(out / "documents.parquet")
    assert docs["source_path"].tolist().count("traditional_dump.txt") == 1  # replaced, not added


def test_corpus_accumulates_and_a_new_page_adds_support(nights: tuple[Path, Path], tmp_path: Path) -> None:
    one, two = nights
    out = tmp_path / "clean"
    assert ingest(one, out) == 0
    first = pd.read_parquet(out / "claims.parquet").set_index("claim_id")
    assert ingest(two, out) == 0
    second = pd.read_parquet(out / "claims.parquet").set_index("claim_id")
    assert set(first.index) <= set(second.index)
    assert (second.loc[first.index, "first_seen"] == first["first_seen"]).all()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert ingest(empty, out) == 0  # a night without those inputs keeps their claims
    assert set(pd.read_parquet(out / "claims.parquet")["claim_id"]) == set(second.index)
    assert ingest(one, out, "--full") == 0  # --full rebuilds from RAW_DIR alone
    assert set(pd.read_parquet(out / "claims.parquet")["claim_id"]) == set(first.index)


@pytest.mark.parametrize("setting", ["[segment]\nmax_claim_chars = 200\n", "[claims]\ncut_min_chars = 30\n"])
def test_changed_settings_process_the_inputs_again(tmp_path: Path, setting: str) -> None:
    out = tmp_path / "clean"
    assert ingest(RAW, out) == 0
    config = tmp_path / "config.toml"
    config.write_text(setting, encoding="utf-8")
    assert ingest(RAW, out, "--config", str(config)) == 0
    assert manifest(out)["counts"]["inputs"] == {"ingested": 4}


def test_signatures_of_another_scheme_are_made_again(nights: tuple[Path, Path], tmp_path: Path) -> None:
    """A state whose signatures came from another MinHash scheme (an older version) gets new ones: the
    stored ones, here all equal, would make every page a duplicate if they were compared."""
    one, two = nights
    out, full = tmp_path / "clean", tmp_path / "full"
    assert ingest(one, out) == 0
    with sqlite3.connect(out / state.FILE) as db:
        db.execute("UPDATE meta SET value = 'an-older-scheme' WHERE name = 'minhash'")
        db.execute("UPDATE keys SET sig = zeroblob(length(sig))")
        db.execute("UPDATE documents SET sig = zeroblob(length(sig))")
    assert ingest(two, out) == 0
    assert ingest(two, full) == 0
    assert corpus(out) == corpus(full)
    assert manifest(out)["counts"]["duplicate_documents"] == 0


@pytest.mark.parametrize("point", ["read", "dedup", "write", "swap"])
def test_a_run_killed_anywhere_loses_nothing(nights: tuple[Path, Path], tmp_path: Path, point: str) -> None:
    one, two = nights
    reference = tmp_path / "reference"
    assert cli(one, reference).returncode == 0
    assert cli(two, reference).returncode == 0
    out = tmp_path / "clean"
    assert cli(one, out).returncode == 0
    before = digests(out)
    killed = cli(two, out, {"PIPELINE_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert digests(out) == before  # the previous corpus is intact...
    pd.read_parquet(out / "claims.parquet")  # ...and readable
    again = cli(two, out)
    assert again.returncode == 0, again.stderr
    assert corpus(out) == corpus(reference)  # no claim lost or doubled
    assert not [p for p in tmp_path.iterdir() if p.name in (".clean.new", ".clean.old")]  # staging cleaned up


def make_bad_inputs(raw: Path) -> dict[str, str]:
    """Every kind of bad input, each with a part of the reason it must be reported with."""
    (raw / "empty.html").write_bytes(b"")
    (raw / "binary.html").write_bytes(bytes(range(256)) * 64)
    (raw / "truncated.html.gz").write_bytes(gzip.compress("<p>运营负责增长。</p>".encode() * 100)[:30])
    (raw / "invalid.txt").write_bytes("运营负责增长".encode() + b"\xff\xfe\x80\x81" + "推广负责曝光".encode("gbk"))
    (raw / "page50mb.html").write_bytes(b"<html><body>" + "<p>运营负责增长。</p>".encode() * (50 * 2**20 // 27))
    (raw / "deep.html").write_text("<div>" * 10_000 + "运营人员负责用户增长和内容策划。" + "</div>" * 10_000,
                                   encoding="utf-8")
    with gzip.open(raw / "bomb.html.gz", "wb", compresslevel=9) as fh:
        block = b"\0" * 2**20
        for _ in range(257):
            fh.write(block)
    (raw / "gone.html").symlink_to(raw / "no-such-file.html")
    (raw / "loop.html").symlink_to(raw / "loop.html")
    (raw / "sub").mkdir()
    (raw / "sub" / "again").symlink_to(raw)
    expected = {"empty.html": "failed: empty", "truncated.html.gz": "failed: corrupt gzip",
                "page50mb.html": "failed: page too large", "bomb.html.gz": "failed: gzip expands",
                "gone.html": "failed: unreadable", "loop.html": "failed: unreadable",
                "sub/again": "skipped: symlinked directory not followed", "binary.html": "failed: binary content",
                "invalid.txt": "ingested: ", "deep.html": "ingested: "}  # the last two still have text to give
    if os.geteuid() != 0:  # root reads any file, so a permission-less file is unreadable only for others
        (raw / "locked.html").write_text("<p>运营</p>", encoding="utf-8")
        (raw / "locked.html").chmod(0)
        expected["locked.html"] = "failed: unreadable"
    return expected


def test_bad_inputs_are_reported_and_everything_else_ingested(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(RAW, raw)
    expected = make_bad_inputs(raw)
    before = {p: (p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() else b"") for p in raw.rglob("*")
              if not p.is_symlink()}
    result = cli(raw, out)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    outcomes = {i["path"]: i for i in manifest(out)["inputs"]}
    for name, want in expected.items():
        got = outcomes[name]
        assert f"{got['outcome']}: {got.get('reason', '')}".startswith(want), (name, got)
        if got["outcome"] == "failed":
            assert f"failed: {name}: " in result.stderr
    assert all(outcomes[p.name]["outcome"] == "ingested" for p in RAW.iterdir())
    after = {p: (p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() else b"") for p in raw.rglob("*")
             if not p.is_symlink()}
    assert after == before  # no input modified or moved


def test_nothing_is_fetched_from_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access during ingest: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(RAW, raw)
    (raw / "remote.html").write_text(
        '<!DOCTYPE html SYSTEM "http://example.com/remote.dtd"><html><head>'
        '<link rel="stylesheet" href="http://example.com/a.css"><script src="http://example.com/a.js"></script>'
        '</head><body><iframe src="http://example.com/frame"></iframe><img src="http://example.com/a.png">'
        "<p>运营人员负责用户增长和内容策划，推广人员负责把新用户拉进来。</p></body></html>", encoding="utf-8")
    assert ingest(raw, out) == 0


def test_unreadable_state_is_one_line_and_full_rebuilds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean"
    assert ingest(RAW, out) == 0
    capsys.readouterr()  # the run's summary line
    (out / "state.sqlite").write_bytes(b"not a database" * 100)
    assert ingest(RAW, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--full" in err[0]
    assert ingest(RAW, out, "--full") == 0
    assert manifest(out)["counts"]["inputs"] == {"ingested": 4}


def test_state_of_an_older_schema_is_refused_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean"
    assert ingest(RAW, out) == 0
    with sqlite3.connect(out / "state.sqlite") as db:
        db.execute("UPDATE meta SET value = '2' WHERE name = 'schema_version'")
    before = (out / "state.sqlite").read_bytes()
    assert ingest(RAW, out) == 2
    assert "state schema 2, this pipeline reads 4; run with --full" in capsys.readouterr().err
    assert (out / "state.sqlite").read_bytes() == before


def test_schema_3_state_is_upgraded_keeping_the_claims_history(tmp_path: Path) -> None:
    """Schema 3 keyed template lines without folding digits: those counts start over, the rest stays."""
    out = tmp_path / "clean"
    assert ingest(RAW, out) == 0
    with sqlite3.connect(out / "state.sqlite") as db:
        db.execute("UPDATE meta SET value = '3' WHERE name = 'schema_version'")
        db.execute("UPDATE keys SET first_seen = '2020-01-01T00:00:00+00:00'")
        db.execute("INSERT INTO templates VALUES ('old.example.com', 'stale', 9, 'x', NULL)")
    assert ingest(RAW, out) == 0
    with sqlite3.connect(out / "state.sqlite") as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("4",)
        assert db.execute("SELECT count(*) FROM templates WHERE site = 'old.example.com'").fetchone() == (0,)
        assert {row[0] for row in db.execute("SELECT first_seen FROM keys")} == {"2020-01-01T00:00:00+00:00"}


def test_a_bad_record_fails_again_on_an_unchanged_night(tmp_path: Path) -> None:
    """A record's failure is remembered with its file, so the next night replays it (exit 1 again)."""
    raw, out = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    good = {"url": "https://a.example.com/1", "text": "用户运营负责拉新、留存和促活，是连接用户和产品的桥梁。"}
    (raw / "feed.jsonl").write_text(json.dumps(good, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    assert ingest(raw, out) == 1
    first = {i["path"]: i["outcome"] for i in manifest(out)["inputs"]}
    assert ingest(raw, out) == 1
    second = {i["path"]: i["outcome"] for i in manifest(out)["inputs"]}
    assert first == {"feed.jsonl#1": "ingested", "feed.jsonl#2": "failed"}
    assert second == {"feed.jsonl#1": "unchanged", "feed.jsonl#2": "failed"}


# --- issue 17: what an unattended night must survive ------------------------------------------------


def test_an_edited_rule_file_processes_the_inputs_again(tmp_path: Path) -> None:
    config_dir, out = tmp_path / "conf", tmp_path / "clean"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text("", encoding="utf-8")
    rules = config_dir / "boilerplate.toml"
    shutil.copy(PROJECT / "pipeline" / "data" / "boilerplate.toml", rules)
    assert ingest(RAW, out, "--config", str(config_dir / "config.toml")) == 0
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert ingest(RAW, out, "--config", str(config_dir / "config.toml")) == 0
    assert manifest(out)["counts"]["inputs"] == {"ingested": 4}  # not "unchanged": the rules are settings too


def test_a_hash_in_a_file_name_keeps_one_page_per_file(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(RAW, raw)
    page = raw / "x#1.txt"
    page.write_text("内容运营\n内容运营负责内容的生产与分发，提升用户的活跃与留存。\n", encoding="utf-8")
    assert ingest(raw, out) == 0
    assert {i["path"]: i["outcome"] for i in manifest(out)["inputs"]}["x#1.txt"] == "ingested"
    page.write_text("内容运营\n内容运营负责内容的策划与生产，让用户愿意留下来。\n", encoding="utf-8")
    assert ingest(raw, out) == 0
    docs = pd.read_parquet(out / "documents.parquet")
    assert (docs.source_path == "x#1.txt").sum() == 1  # the edit replaced the page; both versions stayed before


def test_odd_file_names_and_urls_do_not_sink_the_night(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    shutil.copytree(RAW, raw)
    (raw / os.fsdecode(b"name\xff.txt")).write_text("内容运营负责内容的生产与分发。", encoding="utf-8")
    (raw / "b.html").write_text("<p>用户运营负责用户的拉新、留存与促活。</p>", encoding="utf-8")
    (raw / "b.html.url").write_text("http://[oops/\n", encoding="utf-8")
    (raw / "c.jsonl").write_text(json.dumps({"url": "http://[oops/", "text": "新媒体运营负责公众号的内容。"}) + "\n"
                                 + "[" * 100_000 + "\n", encoding="utf-8")
    assert ingest(raw, out) == 1  # the deep record fails alone
    outcomes = {i["path"]: i for i in manifest(out)["inputs"]}
    assert outcomes["name\\xff.txt"]["outcome"] == "ingested"
    assert outcomes["b.html"]["outcome"] == "ingested" and outcomes["c.jsonl#1"]["outcome"] == "ingested"
    assert outcomes["c.jsonl#2"]["outcome"] == "failed"
    assert ingest(raw, out) == 1  # and the next night reads the state they are in
    assert set(manifest(out)["counts"]["inputs"]) <= {"unchanged", "failed", "sidecar"}


def test_a_state_corrupted_mid_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean"
    assert ingest(RAW, out) == 0
    capsys.readouterr()
    path = out / "state.sqlite"
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page:len(data) - page] = b"\xa5" * (len(data) - 3 * page)  # the header intact, the tables garbage
    path.write_bytes(bytes(data))
    assert ingest(RAW, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--full" in err[0], err
    assert path.read_bytes() == bytes(data)  # refused, untouched
    assert ingest(RAW, out, "--full") == 0


def test_ctrl_c_stops_quietly_and_keeps_the_corpus(nights: tuple[Path, Path], tmp_path: Path) -> None:
    one, two = nights
    out = tmp_path / "clean"
    assert cli(one, out).returncode == 0
    before = digests(out)
    result = subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(two), "--out", str(out), "-q",
                             "--workers", "2"], cwd=PROJECT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PIPELINE_KILL_AT": "read:INT"}, start_new_session=True)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "interrupted; the previous corpus is untouched"  # no worker tracebacks
    assert digests(out) == before
