"""The command line: exit codes, one-line errors, what it prints."""

from __future__ import annotations

import sqlite3
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
