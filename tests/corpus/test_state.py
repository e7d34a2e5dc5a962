"""The state file: only a state this pipeline wrote is taken as one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.corpus import state


def made(path: Path) -> Path:
    db = state.State(path)
    db.commit()
    return path


def test_a_committed_state_is_one(tmp_path: Path) -> None:
    assert state.is_state(made(tmp_path / "s.sqlite"))


@pytest.mark.parametrize("kind", ["empty file", "no documents table", "foreign database", "not sqlite"])
def test_what_is_not_our_state_is_refused_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "state.sqlite"
    if kind == "empty file":
        path.write_bytes(b"")
    elif kind == "no documents table":
        made(path)
        with sqlite3.connect(path) as db:
            db.execute("DROP TABLE documents")
    elif kind == "foreign database":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE meta (name TEXT, value TEXT)")
            db.execute("CREATE TABLE songs (title TEXT)")
    else:
        path.write_bytes(b"not a database" * 100)
    before = path.read_bytes()
    assert not state.is_state(path)
    with pytest.raises(state.StateError, match=r"unreadable state.*--full"):
        state.open_copy(path, tmp_path / "copy.sqlite")
    assert path.read_bytes() == before


def test_leaving_after_sqlite_rolled_back_itself_is_quiet(tmp_path: Path) -> None:
    db = state.State(tmp_path / "s.sqlite")
    db.db.execute("ROLLBACK")  # as SQLite does on an I/O error or an interrupt
    db.__exit__(None, None, None)  # "cannot rollback - no transaction is active" before
    assert not db.open
