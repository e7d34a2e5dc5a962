"""Shared fixtures: the default configuration and golden-case loading."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.config import Config

DATA = Path(__file__).parent / "data"
PROJECT = Path(__file__).parent.parent


def golden(name: str) -> list[dict]:
    """Cases from tests/data/NAME.toml: each has an input, what is expected, and why."""
    return tomllib.loads((DATA / f"{name}.toml").read_text(encoding="utf-8"))["case"]


def case_ids(cases: list[dict]) -> list[str]:
    return [c["reason"][:60] for c in cases]


@pytest.fixture(scope="session")
def cfg() -> Config:
    return Config()
