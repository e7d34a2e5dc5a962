"""The Dask executor on a local cluster of 2 workers writes the local executor's corpus, row for row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.output import write
from pipeline.run import runner
from pipeline.text import converter

from ..conftest import PROJECT

RUN_TIMES = ["first_seen", "last_seen"]


def table(out: Path, name: str) -> pd.DataFrame:
    frame = pd.read_parquet(out / name)
    return frame.drop(columns=[c for c in RUN_TIMES if c in frame.columns]).map(
        lambda v: tuple(v) if hasattr(v, "tolist") else v)


def test_dask_cluster_writes_the_local_corpus_row_for_row(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(PROJECT / "raw", raw)
    dump = (raw / "traditional_dump.txt").read_text(encoding="utf-8")
    (raw / "republished.txt").write_text(converter("t2s").convert(dump) + "\n转载", encoding="utf-8")
    local, on_cluster = tmp_path / "local", tmp_path / "dask"
    runner.ingest(raw, local, Config(), workers=2, full=True)
    result = runner.ingest(raw, on_cluster, Config(), workers=2, full=True, scheduler="local")
    assert result.manifest["scheduler"] == "local"
    for name in write.CORPUS_FILES:
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(table(on_cluster, name), table(local, name), obj=name)
    assert table(local, "documents.parquet")["duplicate_of"].notna().any()  # the republished page was found
