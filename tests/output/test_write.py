from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet
import pytest

from pipeline.config import WriteConfig
from pipeline.corpus import state
from pipeline.model import Claim, Document
from pipeline.output import write
from tests.conftest import merge_pages


def publish(out: Path) -> None:
    d = Document("a.txt", "text", doc_id="A", text="=运营负责增长。",
                 claims=(Claim("=运营负责增长。", roles=("operations", "sem"), char_end=8),))
    db, merged = merge_pages([d])
    built = write.tables(merged, [{"role_id": "operations", "name": "运营", "aliases": [], "lexicon_version": "v"}],
                         db.pages, db.removals)
    folder = write.stage(out)
    write.write_manifest(folder, {"run_id": "r", "outputs": write.write_folder(folder, built, WriteConfig())})
    write.swap(out, folder)


def test_contract_files_and_columns(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    publish(out)
    names = {p.name for p in out.iterdir()}
    assert names == {"documents.parquet", "claims.parquet", "claims.csv", "claim_occurrences.parquet",
                     "removed.parquet", "roles.parquet", "manifest.json"}
    claims = pd.read_parquet(out / "claims.parquet")
    assert {"claim_id", "text", "roles", "claim_type", "support", "doc_ids", "section", "first_seen",
            "last_seen"} <= set(claims.columns)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["claims.parquet"]["rows"] == 1
    assert manifest["outputs"]["claims.parquet"]["sha256"] == write.sha256_file(out / "claims.parquet")


def test_csv_is_spreadsheet_safe_and_joins_lists(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    publish(out)
    row = pd.read_csv(out / "claims.csv").iloc[0]
    assert row["text"] == "'=运营负责增长。"
    assert row["roles"] == "operations|sem"


def test_csv_has_a_bom_for_spreadsheets_and_times_are_utc_timestamps(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    publish(out)
    assert (out / "claims.csv").read_bytes().startswith("\ufeffclaim_id,".encode("utf-8"))
    for name, column in (("documents", "first_seen"), ("documents", "published"), ("claims", "last_seen")):
        kind = pa.parquet.read_schema(out / f"{name}.parquet").field(column).type
        assert pa.types.is_timestamp(kind) and kind.tz == "UTC", (name, column, kind)


@pytest.mark.parametrize(("value", "iso"), [
    ("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),  # the run's own times
    ("2022-02-11 08:52:25", "2022-02-11T00:52:25+00:00"),  # a page's time without an offset: China's
    ("2020/11/26", "2020-11-25T16:00:00+00:00"),
    ("2022年2月13日", "2022-02-12T16:00:00+00:00"),
    ("2022-02-13T10:00:00Z", "2022-02-13T10:00:00+00:00"),
    ("2022-02-13T10:00:00-0500", "2022-02-13T15:00:00+00:00"),
    ("2022-02-30", None),  # no such day
    ("上周", None),
    (None, None),
])
def test_times_are_read_as_utc(value: str | None, iso: str | None) -> None:
    seconds = write.epoch_seconds(value)
    assert (datetime.fromtimestamp(seconds, UTC).isoformat() if seconds is not None else None) == iso


def test_publish_replaces_previous_corpus_whole(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    out.mkdir()
    (out / "stale.txt").write_text("old", encoding="utf-8")
    publish(out)
    assert not (out / "stale.txt").exists()
    assert not any(p.name.startswith(".clean.") for p in tmp_path.iterdir())


def test_interrupted_swap_is_recovered(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    _, old = write.staging_paths(out)
    old.mkdir()
    (old / "manifest.json").write_text("{}", encoding="utf-8")
    write.recover(out)
    assert (out / "manifest.json").exists() and not old.exists()


def test_columns_built_from_buffers_hold_the_values() -> None:
    rows = [("运营", 3, ["内容运营", "用户运营"]), (None, -1, []), ("", None, ["a\u3000b"])]
    schema = pa.schema([("text", pa.string()), ("n", pa.int64()), ("roles", write.LIST)])
    batch = write._batch(rows, schema)
    assert batch.schema == schema
    assert batch.column(0).null_count == 1 and batch.column(1).null_count == 1
    assert [tuple(r.values()) for r in batch.to_pylist()] == rows


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else b"" for p in root.rglob("*")}


@pytest.mark.parametrize("case", ["raw itself", "raw's parent", "inside raw", "a file", "a symlink",
                                  "a foreign folder", "a foreign staging sibling"])
def test_out_that_is_not_ours_is_refused_and_untouched(tmp_path: Path, case: str) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("运营", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    out = {"raw itself": raw, "raw's parent": tmp_path, "inside raw": raw / "clean", "a file": tmp_path / "notes.txt",
           "a symlink": tmp_path / "link", "a foreign folder": tmp_path / "mine",
           "a foreign staging sibling": tmp_path / "clean"}[case]
    if case == "a symlink":
        (tmp_path / "real").mkdir()
        out.symlink_to(tmp_path / "real")
    if case == "a foreign folder":
        out.mkdir()
        (out / "thesis.tex").write_text("x", encoding="utf-8")
    if case == "a foreign staging sibling":
        (tmp_path / ".clean.new").mkdir()
        (tmp_path / ".clean.new" / "photo.jpg").write_bytes(b"x")
    before = tree(tmp_path)
    with pytest.raises(write.OutputError):
        write.check_out(out, raw)
    assert tree(tmp_path) == before


def test_out_may_be_new_empty_or_an_earlier_corpus(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write.check_out(tmp_path / "new", raw)
    (tmp_path / "empty").mkdir()
    write.check_out(tmp_path / "empty", raw)
    db = state.State(tmp_path / "state.sqlite")
    db.commit()
    (tmp_path / "earlier").mkdir()
    (tmp_path / "state.sqlite").rename(tmp_path / "earlier" / "state.sqlite")
    write.check_out(tmp_path / "earlier", raw)
    (tmp_path / "earlier" / "state.sqlite").write_bytes(b"garbage")  # a broken state, a manifest of ours
    (tmp_path / "earlier" / "manifest.json").write_text(json.dumps({"run_id": "r", "pipeline_version": "0",
                                                                    "outputs": {}}), encoding="utf-8")
    write.check_out(tmp_path / "earlier", raw)
