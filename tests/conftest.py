"""Shared fixtures: the default configuration, golden-case loading, and the command line as a user runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pipeline.config import Config, DedupConfig
from pipeline.corpus import dedup
from pipeline.corpus.state import State
from pipeline.model import Document
from pipeline.text import canonical

DATA = Path(__file__).parent / "data"
PROJECT = Path(__file__).parent.parent


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A copy of the project's raw/ samples."""
    folder = tmp_path / "raw"
    shutil.copytree(PROJECT / "raw", folder)
    return folder


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline ARGS` in the project folder, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          cwd=PROJECT, timeout=120)


def golden(name: str) -> list[dict]:
    """Cases from tests/data/NAME.toml: each has an input, what is expected, and why."""
    return tomllib.loads((DATA / f"{name}.toml").read_text(encoding="utf-8"))["case"]


def case_ids(cases: list[dict]) -> list[str]:
    return [c["reason"][:60] for c in cases]


@pytest.fixture(scope="session")
def cfg() -> Config:
    return Config()


DEDUP = DedupConfig()


def merge_pages(docs: list[Document], cfg: DedupConfig = DEDUP,
                db: State | None = None) -> tuple[State, dedup.Merged]:
    """Pages put into a state as the runner does (a new one in memory unless given; a page given
    again replaces itself), then merged."""
    db = db or State(Path(":memory:"))
    db.start_night()
    for d in docs:
        db.note_input(d.source_path, d.doc_id)
        db.reset_input(d.source_path)
        db.add_document(d.source_path, d, dedup.page_signature(d.text, cfg), (), [canonical(c.text) for c in d.claims])
    db.record_inputs("2026-01-01T00:00:00+00:00")  # as a night ends: the inputs are known from now on
    db.clear_pending()
    return db, dedup.merge(db, cfg)


def clusters(docs: list[Document], cfg: DedupConfig = DEDUP, db: State | None = None) -> list[dedup.Cluster]:
    return list(merge_pages(docs, cfg, db)[1].clusters())
