"""From a small raw folder (the project's raw/ samples) to the output files, through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from pipeline.cli.main import main
from pipeline.corpus import dedup


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


