"""The command line: exit codes, one-line errors, what it prints."""

from __future__ import annotations

import json
import sqlite3
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.run import runner

from ..conftest import cli


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


def test_json_logs_are_json_line_by_line_with_failures_and_skipped_files(raw: Path, tmp_path: Path) -> None:
    (raw / "empty.html").write_bytes(b"")  # fails
    (raw / "manual.pdf").write_bytes(b"%PDF")  # skipped: no page of ours
    result = cli("ingest", str(raw), "--out", str(tmp_path / "clean"), "--log-format", "json")
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]  # every line parses
    failed = [line for line in lines if line.get("event") == "input_failed"]
    assert [(f["path"], f["reason"]) for f in failed] == [("empty.html", "empty file")]
    last = lines[-1]
    assert (last["pages_in"], last["ingested"], last["failed"], last["skipped"]) == (5, 4, 1, 1)
    assert last["failed_inputs"] == [{"path": "empty.html", "reason": "empty file"}]
    for args in (("ingest", str(raw), "--bogus"), ("ingest", str(tmp_path / "absent"))):
        error = json.loads(cli(*args, "--log-format", "json").stderr)  # a usage error is a JSON line too
        assert error["level"] == "ERROR" and error["exit_code"] == 2, error


def test_quiet_is_the_summary_alone_on_a_dask_cluster_too(raw: Path, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    result = cli("ingest", str(raw), "--out", str(tmp_path / "clean"), "-q", "--scheduler", "local", "--workers", "2")
    assert result.returncode == 0
    assert len(result.stderr.strip().splitlines()) == 1 and "pages in 4" in result.stderr, result.stderr


def test_version_help_and_no_abbreviations() -> None:
    from pipeline import __version__

    assert cli("--version").stdout.strip() == f"python -m pipeline {__version__}"
    for command in ("ingest", "explain", "stats"):
        text = cli(command, "--help").stdout
        assert "exit codes:" in text and f"python -m pipeline {command}" in text, command  # with an example
    assert "RAW_DIR" in cli("ingest", "--help").stdout and "--quiet" in cli("ingest", "--help").stdout
    ful = cli("ingest", "raw", "--ful", "--dry-run")
    assert ful.returncode == 2 and "unrecognized arguments: --ful" in ful.stderr  # not taken as --full


def test_a_console_script_runs_the_command_line() -> None:
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("role-claims") == "pipeline.cli.main:main"


def test_a_scheduler_without_dask_installed_is_one_line_exit_2(raw: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the cluster extra were not installed
    assert main(["ingest", str(raw), "--out", str(tmp_path / "clean"), "--scheduler", "local"]) == 2
    assert capsys.readouterr().err.strip() == "error: --scheduler needs Dask: pip install -e '.[cluster]'"


def test_a_night_without_new_claims_says_why(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    (raw / "weather.txt").write_text("今日天气\n\n今天天气晴朗，适合出门散步。\n", encoding="utf-8")
    (raw / "news.txt").write_text("华东上调电价\n\n销售电价面临上涨压力，专家认为影响有限。\n\n"
                                  "超市的销售点挤满了人，大家排队购买。\n", encoding="utf-8")
    result = cli("ingest", str(raw), "--out", str(out), "-q", "--log-format", "json")
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert result.returncode == 0 and summary["claims_new"] == 0
    assert summary["pages_without_claims"] == {"no_role": 1, "off_topic": 1}
    assert summary["message"].endswith("; no new claims: 2 of 2 pages gave none (1: no sentence names a role, nor "
                                       "its heading or the title; 1: not about roles (none is the subject of title "
                                       "or sentences))")
    (raw / "weather.txt").write_text("今日天气\n\n明天可能有小雨，记得带伞。\n", encoding="utf-8")
    again = cli("ingest", str(raw), "--out", str(out), "-q").stderr.strip()
    assert again.endswith("; no new claims: 1 of 1 pages gave none (1: no sentence names a role, nor its heading or "
                          "the title)")
    unchanged = cli("ingest", str(raw), "--out", str(out), "-q").stderr.strip()
    assert "no new claims" not in unchanged  # nothing was read: nothing to explain
    dry = cli("ingest", str(raw), "--out", str(tmp_path / "dry"), "--dry-run", "-q").stderr.strip()
    assert dry.startswith("dry run: pages in 2 (ingested 2") and "no new claims" not in dry  # nothing was merged
