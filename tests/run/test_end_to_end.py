"""From a small raw folder (the project's raw/ samples) to the output files, through the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli.main import main
from pipeline.corpus import dedup
from pipeline.run import runner

from ..conftest import PROJECT


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(PROJECT / "raw", folder)
    return folder


def test_ingest_writes_the_contracted_corpus(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean"
    assert main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "2"]) == 0
    docs = pd.read_parquet(out / "documents.parquet")
    claims = pd.read_parquet(out / "claims.parquet")
    removed = pd.read_parquet(out / "removed.parquet")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(docs["source_path"]) == sorted(p.name for p in raw.iterdir())
    assert set(docs.loc[docs.source_path == "gbk_sem_page.html", "encoding"]) == {"gb18030"}
    assert set(docs.loc[docs.source_path == "traditional_dump.txt", "script"]) == {"traditional"}
    assert not docs["text"].str.contains("VIP文档|羽毛|致力于提供|实名认证|相关文档", regex=True).any()
    assert docs["text"].str.contains("跟踪留存率和活跃度").any()  # list items, which trafilatura dropped
    assert claims["roles"].map(len).min() >= 1
    assert "sem" in set(claims["roles"].explode())
    assert {"rules.community_wall", "container.related", "nav.prev_next", "meta.datetime"} <= set(removed["rule"])
    assert set(removed["stage"]) == {"extract", "boilerplate"}
    assert manifest["counts"]["inputs"] == {"ingested": 4}
    assert manifest["minhash"].startswith(dedup.MINHASH)  # which signatures the corpus was deduplicated with
    occ = pd.read_parquet(out / "claim_occurrences.parquet").merge(docs[["doc_id", "text"]], on="doc_id")
    assert all(t[s:e] == w for t, s, e, w in zip(occ.text_y, occ.char_start, occ.char_end, occ.text_x, strict=True))


def test_same_input_same_ids(raw: Path, tmp_path: Path) -> None:
    ids = []
    for name in ("one", "two"):
        assert main(["ingest", str(raw), "--out", str(tmp_path / name), "-q", "--workers", "1"]) == 0
        ids.append(sorted(pd.read_parquet(tmp_path / name / "claims.parquet")["claim_id"]))
    assert ids[0] == ids[1]


def test_bad_input_is_reported_and_the_rest_ingested(raw: Path, tmp_path: Path, capsys) -> None:
    (raw / "broken.html.gz").write_bytes(b"\x1f\x8b not really gzip")
    (raw / "notes.pdf").write_bytes(b"%PDF-1.4")
    out = tmp_path / "clean"
    assert main(["ingest", str(raw), "--out", str(out), "-q"]) == 1
    assert "failed: broken.html.gz: corrupt gzip" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    outcomes = {i["path"]: i["outcome"] for i in manifest["inputs"]}
    assert outcomes["broken.html.gz"] == "failed" and outcomes["notes.pdf"] == "skipped"
    assert manifest["counts"]["documents"] == 4


def test_dry_run_writes_nothing(raw: Path, tmp_path: Path) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["ingest", str(raw), "--out", str(tmp_path / "clean"), "--dry-run", "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no corpus, no lock, no staging folder


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          cwd=PROJECT, timeout=120)


def test_cli_usage_and_config_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[segment]\nnope = 1\n", encoding="utf-8")
    for args in (("ingest",), ("ingest", str(tmp_path / "absent")), ("ingest", "raw", "--config", str(bad)),
                 ("ingest", "raw", "--workers", "0")):
        result = cli(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_bad_out_and_scheduler_exit_2_with_nothing_touched(raw: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for args in (("--out", str(raw)), ("--out", str(tmp_path)), ("--out", "/"), ("--out", str(raw / "clean")),
                 ("--out", str(tmp_path / "notes.txt")), ("--scheduler", "lokal")):
        result = cli("ingest", str(raw), *args, "-q")
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_unreachable_scheduler_is_one_line_exit_2(raw: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("dask.distributed")
    from pipeline.run import cluster

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    assert main(["ingest", str(raw), "--out", str(tmp_path / "clean"), "-q", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: no Dask scheduler answers at tcp://127.0.0.1:9"), err


@pytest.mark.parametrize(("error", "code", "message"), [
    (OSError(28, "No space left on device", "/x/claims.parquet"), 2, "error: No space left on device: /x/claims"),
    (OSError(30, "Read-only file system", "/x"), 2, "error: Read-only file system: /x"),
    (sqlite3.OperationalError("database or disk is full"), 2, "error: cannot write the state"),
    (sqlite3.DatabaseError("database disk image is malformed"), 2, "--full"),
    (RuntimeError("a bug"), 4, "error: internal error (a bug; -v shows the traceback): RuntimeError: a bug"),
])
def test_errors_that_end_a_run_are_one_line_with_their_code(raw: Path, tmp_path: Path, monkeypatch, capsys,
                                                           error: Exception, code: int, message: str) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(runner.write, "write_folder", fails)
    assert main(["ingest", str(raw), "--out", str(tmp_path / "clean"), "-q"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "clean").exists()  # nothing half-written is left


def test_control_characters_in_file_names_are_escaped_in_log_lines(raw: Path, tmp_path: Path, capsys) -> None:
    (raw / "a\nERROR forged\x1b[31m.html").write_bytes(b"")
    assert main(["ingest", str(raw), "--out", str(tmp_path / "clean"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "failed: a\\nERROR forged\\x1b[31m.html: empty file" in err and "\x1b" not in err


def test_cli_exit_3_when_locked(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    with runner.output_lock(out):
        result = cli("ingest", "raw", "--out", str(out), "-q")
    assert result.returncode == 3
    assert "another run holds" in result.stderr


def test_explain_and_stats(tmp_path: Path) -> None:
    result = cli("explain", "raw/article_rules.html")
    assert result.returncode == 0
    assert "DROP" in result.stdout and "[rules.community_wall]" in result.stdout and "== claims" in result.stdout
    page = cli("explain", "raw/docshare_vip.html").stdout.splitlines()
    order = [next(i for i, line in enumerate(page) if mark in line)
             for mark in ("首页 > IT互联网", "[docshare.notice_list]", "keep  | 用户运营和内容运营有什么不同",
                          "[docshare.page_marker: PAGE PAGE 2]", "[container.related]")]
    assert order == sorted(order)  # the whole page in reading order, extraction cuts included
    out = tmp_path / "clean"
    assert cli("ingest", "raw", "--out", str(out), "-q").returncode == 0
    stats = cli("stats", str(out))
    assert stats.returncode == 0 and "claims by role" in stats.stdout


def test_explain_shows_claims_of_a_page_not_about_roles(tmp_path: Path) -> None:
    page = tmp_path / "news.txt"
    page.write_text("华东上调电价\n\n销售电价面临上涨压力，专家认为影响有限。\n\n超市的销售点挤满了人，大家排队购买。\n",
                    encoding="utf-8")
    result = cli("explain", str(page))
    assert result.returncode == 0
    assert "== not about roles: 2 claims naming a role removed [roles.off_topic]" in result.stdout
    assert result.stdout.rstrip().endswith("== claims (0)")


def test_explain_lists_the_sentences_that_are_no_claims_with_their_reason(tmp_path: Path) -> None:
    page = tmp_path / "pm.txt"
    page.write_text("产品经理的职责\n\n产品经理负责需求分析和产品规划，并协调设计与开发。为什么要做产品？\n\n"
                    "总的来说这些工作都是产品经理需要长期坚持并不断优化的核心内容和方\n", encoding="utf-8")
    result = cli("explain", str(page))
    assert result.returncode == 0
    assert " - DROP  | 为什么要做产品？  [segment.question]" in result.stdout
    assert "[claims.cut_off]" in result.stdout  # the last sentence, cut off by the end of the text
    assert "== claims (1)" in result.stdout


def test_the_same_bytes_at_another_path_are_a_second_document_marked_duplicate_of(raw: Path, tmp_path: Path) -> None:
    (raw / "mirror").mkdir()
    shutil.copy(raw / "traditional_dump.txt", raw / "mirror" / "traditional_dump.txt")
    out = tmp_path / "clean"
    assert main(["ingest", str(raw), "--out", str(out), "-q", "--workers", "1"]) == 0
    docs = pd.read_parquet(out / "documents.parquet").set_index("source_path")
    copy, first = docs.loc["traditional_dump.txt"], docs.loc["mirror/traditional_dump.txt"]  # path order
    assert first["doc_id"] != copy["doc_id"]
    assert copy["duplicate_of"] == first["doc_id"] and pd.isna(first["duplicate_of"])
    claims = pd.read_parquet(out / "claims.parquet")
    theirs = claims[claims["doc_ids"].map(lambda ids: first["doc_id"] in ids)]
    assert len(theirs) and (theirs["doc_ids"].map(lambda ids: copy["doc_id"] in ids)).all()
    assert (theirs["support"] >= 2).all()  # a second place the article appeared counts


def test_explain_and_removed_say_why_the_classifier_and_the_sentence_rules_took_text(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "dump.txt").write_text(
        "回复\n用户运营是做什么的\n用户运营负责用户的拉新、留存与促活，是连接用户和产品的桥梁。感谢您的阅读，请持续关注本站。\n"
        "用户运营要懂数据，能从用户行为里找到留存和流失的原因，并据此调整运营策略。\n", encoding="utf-8")
    page = cli("explain", str(raw / "dump.txt")).stdout
    assert "DROP  | 回复  [chrome.line: " in page  # the classifier's removal names its features
    assert "~ CUT   |" in page and "[farm.outro: 感谢您的阅读，请持续关注本站。]" in page
    assert "title 用户运营是做什么的" in page
    out = tmp_path / "clean"
    assert cli("ingest", str(raw), "--out", str(out), "-q").returncode == 0
    removed = pd.read_parquet(out / "removed.parquet").set_index("rule")
    assert removed.loc["chrome.line", "why"] and pd.isna(removed.loc["farm.outro", "why"])
