"""`export`: the claims as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..conftest import cli


def test_export_writes_every_claim_as_one_json_object_a_line(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean"
    assert cli("ingest", str(raw), "--out", str(out), "-q").returncode == 0
    result = cli("export", str(out))
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    claims = pd.read_parquet(out / "claims.parquet")
    assert [r["claim_id"] for r in rows] == claims["claim_id"].tolist()
    assert set(rows[0]) == set(claims.columns) and isinstance(rows[0]["roles"], list)
    assert rows[0]["first_seen"].endswith("+00:00")  # ISO 8601, UTC


def test_export_of_a_folder_without_a_corpus_is_one_line_exit_2(tmp_path: Path) -> None:
    result = cli("export", str(tmp_path))
    assert result.returncode == 2 and result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
