"""Write stage: the corpus files of the contract, swapped in atomically.

Everything is written into a fresh sibling folder first; only when every file is complete and
synced is it exchanged with the output folder in one rename (Linux `renameat2(RENAME_EXCHANGE)`;
elsewhere two renames, with the previous corpus restored by the next run if one is interrupted).
A reader therefore sees the old corpus or the new one, never a mixture or a half-written file.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .config import WriteConfig
from .dedup import Corpus
from .faults import checkpoint
from .model import Document

log = logging.getLogger(__name__)

LIST = pa.list_(pa.string())
SCHEMAS: dict[str, pa.Schema] = {
    "documents": pa.schema([
        ("doc_id", pa.string()), ("source_path", pa.string()), ("title", pa.string()), ("text", pa.string()),
        ("duplicate_of", pa.string()), ("source_url", pa.string()), ("site", pa.string()),
        ("published", pa.string()), ("format", pa.string()), ("encoding", pa.string()), ("script", pa.string()),
        ("chars_raw", pa.int64()), ("chars_kept", pa.int64()), ("first_seen", pa.string()),
        ("last_seen", pa.string()),
    ]),
    "claims": pa.schema([
        ("claim_id", pa.string()), ("text", pa.string()), ("roles", LIST), ("claim_type", pa.string()),
        ("support", pa.int64()), ("doc_ids", LIST), ("section", pa.string()), ("first_seen", pa.string()),
        ("last_seen", pa.string()),
    ]),
    "claim_occurrences": pa.schema([
        ("claim_id", pa.string()), ("doc_id", pa.string()), ("position", pa.int64()), ("char_start", pa.int64()),
        ("char_end", pa.int64()), ("text", pa.string()),
    ]),
    "removed": pa.schema([
        ("doc_id", pa.string()), ("stage", pa.string()), ("rule", pa.string()), ("text", pa.string()),
        ("line", pa.int64()),
    ]),
    "roles": pa.schema([
        ("role_id", pa.string()), ("name", pa.string()), ("aliases", LIST), ("claims", pa.int64()),
        ("lexicon_version", pa.string()),
    ]),
}
CORPUS_FILES = (*(f"{name}.parquet" for name in SCHEMAS), "claims.csv")  # with csv = true
SECTION_SEP = " > "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


Batches = Callable[[], Iterator[pa.RecordBatch]]  # a table written as it is read, never whole in memory
BATCH_ROWS = 2000
BATCH_CHARS = 4_000_000  # a batch of page texts is flushed at this size: memory stays flat whatever the pages


def tables(corpus: Corpus, roles: list[dict[str, Any]],
           pages: Callable[[], Iterable[Document]] | None = None) -> dict[str, pa.Table | Batches]:
    """The contract's tables. The pages (documents and removals) are streamed from `pages` when
    given (the state), else taken from the corpus; the claims are built from the clusters."""
    source = pages or (lambda: corpus.documents)

    def documents() -> Iterator[dict[str, Any]]:
        for d in source():
            yield {
                "doc_id": d.doc_id, "source_path": d.source_path, "title": d.title, "text": d.text,
                "duplicate_of": corpus.duplicate_of.get(d.doc_id), "source_url": d.source_url, "site": d.site,
                "published": d.published, "format": d.format, "encoding": d.encoding, "script": d.script,
                "chars_raw": d.chars_raw, "chars_kept": len(d.text), "first_seen": d.first_seen,
                "last_seen": d.last_seen,
            }

    def removed() -> Iterator[dict[str, Any]]:
        for d in source():
            for r in d.removed:
                yield {"doc_id": d.doc_id, "stage": r.stage, "rule": r.rule, "text": r.text, "line": r.line}

    claims = [{
        "claim_id": c.claim_id, "text": c.text, "roles": list(c.roles), "claim_type": c.claim_type,
        "support": len(c.doc_ids), "doc_ids": list(c.doc_ids), "section": SECTION_SEP.join(c.section),
        "first_seen": c.first_seen, "last_seen": c.last_seen,
    } for c in corpus.clusters]
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMAS["claim_occurrences"].names}
    for c in corpus.clusters:  # by column: one row per place a claim was seen adds up on a large corpus
        for doc_id, pos, start, end, text in c.occurrences:
            for name, value in zip(columns, (c.claim_id, doc_id, pos, start, end, text), strict=True):
                columns[name].append(value)
    counts: dict[str, int] = {}
    for c in corpus.clusters:
        for role in c.roles:
            counts[role] = counts.get(role, 0) + 1
    role_rows = [{**r, "claims": counts.get(r["role_id"], 0)} for r in roles]
    return {
        "documents": _batched(documents, SCHEMAS["documents"]),
        "claims": pa.Table.from_pylist(claims, schema=SCHEMAS["claims"]),
        "claim_occurrences": pa.Table.from_pydict(columns, schema=SCHEMAS["claim_occurrences"]),
        "removed": _batched(removed, SCHEMAS["removed"]),
        "roles": pa.Table.from_pylist(role_rows, schema=SCHEMAS["roles"]),
    }


def _batched(rows: Callable[[], Iterable[dict[str, Any]]], schema: pa.Schema) -> Batches:
    def batches() -> Iterator[pa.RecordBatch]:
        chunk: list[dict[str, Any]] = []
        chars = 0
        for row in rows():
            chunk.append(row)
            chars += len(row.get("text") or "")
            if len(chunk) == BATCH_ROWS or chars >= BATCH_CHARS:
                yield pa.RecordBatch.from_pylist(chunk, schema=schema)
                chunk, chars = [], 0
        if chunk:
            yield pa.RecordBatch.from_pylist(chunk, schema=schema)
    return batches


def spreadsheet_safe(value: Any) -> Any:
    """Prefix a quote to cells a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_claims_csv(table: pa.Table, path: Path) -> None:
    """The claims as CSV: UTF-8, list cells joined with |, formula-looking cells escaped."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([spreadsheet_safe("|".join(v) if isinstance(v, list) else "" if v is None else v)
                             for v in row.values()])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


MANIFEST = "manifest.json"


def write_folder(folder: Path, built: dict[str, pa.Table | Batches], manifest: dict[str, Any],
                 cfg: WriteConfig) -> None:
    """Write every corpus file into the staging folder, the manifest last, each synced to disk."""
    files: dict[str, dict[str, Any]] = {}
    compression = None if cfg.compression == "none" else cfg.compression
    for name, table in built.items():
        path = folder / f"{name}.parquet"
        if isinstance(table, pa.Table):
            pq.write_table(table, path, compression=compression)
            rows = table.num_rows
        else:
            rows = 0
            with pq.ParquetWriter(path, SCHEMAS[name], compression=compression) as writer:
                for batch in table():
                    writer.write_batch(batch)
                    rows += batch.num_rows
        files[path.name] = {"rows": rows}
        checkpoint("write")
    claims = built["claims"]
    if cfg.csv and isinstance(claims, pa.Table):
        path = folder / "claims.csv"
        write_claims_csv(claims, path)
        files[path.name] = {"rows": claims.num_rows}
    for name, info in files.items():
        _fsync(folder / name)
        info["sha256"] = sha256_file(folder / name)
    write_manifest(folder, {**manifest, "outputs": files})


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    _fsync(folder / MANIFEST)
    _fsync(folder)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def link_outputs(out: Path, folder: Path, files: dict[str, Any]) -> bool:
    """Hard-link the previous corpus files into the staging folder (nothing changed); False if one is missing."""
    try:
        for name in files:
            os.link(out / name, folder / name)
    except OSError:
        return False
    return True


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False when the platform can't."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def staging_paths(out: Path) -> tuple[Path, Path]:
    """(new, old) sibling folders used while swapping `out`."""
    return out.with_name(f".{out.name}.new"), out.with_name(f".{out.name}.old")


def recover(out: Path) -> None:
    """Undo what an interrupted run left: restore the old corpus, drop half-written staging."""
    new, old = staging_paths(out)
    if not out.exists() and old.exists():
        old.rename(out)
        log.warning("restored the previous corpus after an interrupted run")
    for leftover in (new, old):
        if leftover.exists():
            shutil.rmtree(leftover)


def stage(out: Path) -> Path:
    """A fresh, empty staging folder beside `out`, after cleaning up an interrupted run."""
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    new, _ = staging_paths(out)
    new.mkdir()
    return new


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def swap(out: Path, folder: Path) -> None:
    """Swap the finished staging folder in as `out` in one step; the previous corpus is removed."""
    checkpoint("swap")
    if not out.exists():
        folder.rename(out)
    elif _exchange(folder, out):
        shutil.rmtree(folder)  # now holds the previous corpus
    else:
        _, old = staging_paths(out)
        out.rename(old)
        folder.rename(out)
        shutil.rmtree(old)
    _fsync(out.parent)
