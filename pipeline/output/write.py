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
import itertools
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import WriteConfig
from ..corpus import state
from ..corpus.dedup import Merged
from ..faults import checkpoint
from ..model import Document

log = logging.getLogger(__name__)

LIST = pa.list_(pa.string())
TIME = pa.timestamp("s", tz="UTC")  # first_seen, last_seen, published
SCHEMAS: dict[str, pa.Schema] = {
    "documents": pa.schema([
        ("doc_id", pa.string()), ("source_path", pa.string()), ("title", pa.string()), ("text", pa.string()),
        ("duplicate_of", pa.string()), ("source_url", pa.string()), ("site", pa.string()),
        ("published", TIME), ("format", pa.string()), ("encoding", pa.string()), ("script", pa.string()),
        ("chars_raw", pa.int64()), ("chars_kept", pa.int64()), ("first_seen", TIME), ("last_seen", TIME),
    ]),
    "claims": pa.schema([
        ("claim_id", pa.string()), ("text", pa.string()), ("roles", LIST), ("claim_type", pa.string()),
        ("support", pa.int64()), ("doc_ids", LIST), ("section", pa.string()), ("first_seen", TIME),
        ("last_seen", TIME),
    ]),
    "claim_occurrences": pa.schema([
        ("claim_id", pa.string()), ("doc_id", pa.string()), ("position", pa.int64()), ("char_start", pa.int64()),
        ("char_end", pa.int64()), ("text", pa.string()),
    ]),
    "removed": pa.schema([
        ("doc_id", pa.string()), ("stage", pa.string()), ("rule", pa.string()), ("text", pa.string()),
        ("line", pa.int64()), ("why", pa.string()),
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
# A batch is flushed at this many characters of text and of supporting page ids (a claim that a
# hundred thousand pages support carries as many ids): memory stays flat whatever the pages and support.
BATCH_CHARS = 4_000_000


def tables(merged: Merged, roles: list[dict[str, Any]], pages: Callable[[], Iterable[tuple[Document, str | None]]],
           removals: Callable[[], Iterable[tuple[str, list[list[Any]]]]]) -> dict[str, Batches]:
    """The contract's tables, each streamed as it is written: the pages (with the page each republishes)
    from `pages`, their removals from `removals`, the claims and occurrences from the merge."""

    def documents() -> Iterator[tuple[Any, ...]]:
        for d, duplicate_of in pages():
            yield (d.doc_id, d.source_path, d.title, d.text, duplicate_of, d.source_url, d.site, d.published, d.format,
                   d.encoding, d.script, d.chars_raw, len(d.text), d.first_seen, d.last_seen)

    def removed() -> Iterator[tuple[Any, ...]]:
        for doc_id, rows in removals():
            for stage, rule, text, line, *why in rows:  # rows written before `why` existed have four fields
                yield doc_id, stage, rule, text, line, (why[0] if why and why[0] else None)

    def claims() -> Iterator[tuple[Any, ...]]:
        for c in merged.clusters():
            yield (c.claim_id, c.text, list(c.roles), c.claim_type, len(c.doc_ids), list(c.doc_ids),
                   SECTION_SEP.join(c.section), c.first_seen, c.last_seen)

    def role_rows() -> Iterator[tuple[Any, ...]]:
        for r in roles:
            yield r["role_id"], r["name"], r["aliases"], merged.role_claims.get(r["role_id"], 0), r["lexicon_version"]

    return {
        "documents": _batched(documents, SCHEMAS["documents"]),
        "claims": _batched(claims, SCHEMAS["claims"]),
        "claim_occurrences": _batched(merged.occurrence_rows, SCHEMAS["claim_occurrences"]),
        "removed": _batched(removed, SCHEMAS["removed"]),
        "roles": _batched(role_rows, SCHEMAS["roles"]),
    }


def _batched(rows: Callable[[], Iterable[tuple[Any, ...]]], schema: pa.Schema) -> Batches:
    """Rows (tuples in the schema's column order) as record batches, built a column at a time."""
    text = schema.names.index("text") if "text" in schema.names else None
    ids = schema.names.index("doc_ids") if "doc_ids" in schema.names else None

    def batches() -> Iterator[pa.RecordBatch]:
        chunk: list[tuple[Any, ...]] = []
        chars = 0
        for row in rows():
            chunk.append(row)
            chars += (len(row[text] or "") if text is not None else 0) + (sum(map(len, row[ids])) if ids is not None
                                                                          else 0)
            if len(chunk) == BATCH_ROWS or chars >= BATCH_CHARS:
                yield _batch(chunk, schema)
                chunk, chars = [], 0
        if chunk:
            yield _batch(chunk, schema)
    return batches


def _batch(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    columns = zip(*rows, strict=True)
    return pa.RecordBatch.from_arrays([_array(col, f.type) for col, f in zip(columns, schema, strict=True)],
                                      schema=schema)


def _array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """One column, built from its buffers. `pa.array` on Python objects imports pandas when it is
    installed (0.2 s a run; pyarrow checks every input for a pandas type) and encodes text 2x slower."""
    if kind == pa.int64():
        data = np.array([0 if v is None else v for v in values], dtype=np.int64)
        valid, nulls = _validity(values)
        return pa.Array.from_buffers(kind, len(values), [valid, pa.py_buffer(data)], null_count=nulls)
    if kind == LIST:
        ends = np.fromiter(itertools.accumulate(map(len, values)), dtype=np.int32, count=len(values))
        offsets = pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, pa.py_buffer(np.r_[np.int32(0), ends])])
        return pa.ListArray.from_arrays(offsets, _strings([v for items in values for v in items]))
    if kind == pa.string():
        return _strings(values)
    if kind == TIME:
        seconds = [epoch_seconds(v) for v in values]
        data = np.array([0 if v is None else v for v in seconds], dtype=np.int64)
        valid, nulls = _validity(seconds)
        return pa.Array.from_buffers(kind, len(values), [valid, pa.py_buffer(data)], null_count=nulls)
    raise TypeError(f"no column builder for {kind}")


DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"  # the date, then maybe a time and an offset
                  r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?")
CHINA = timezone(timedelta(hours=8))  # a page's time without an offset is taken as China's (UTC+8)


@lru_cache(maxsize=4096)  # a night's rows share a handful of times
def epoch_seconds(value: str | None) -> int | None:
    """A time as seconds since 1970 UTC: the run's own times (ISO with an offset), or the date a page
    declares ("2022-02-11 08:52:25", "2020/11/26", "2022年2月13日", with or without an offset); None
    for none, or for what reads as no date."""
    if not value or not (m := DATE.match(value.strip())):
        return None
    year, month, day, hour, minute, second, zone = m.groups()
    tz = CHINA if zone is None else UTC if zone == "Z" else timezone(
        (-1 if zone[0] == "-" else 1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:])))
    try:
        when = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz)
    except ValueError:  # 2022-02-30
        return None
    return int(when.timestamp())


def _strings(values: Sequence[str | None]) -> pa.Array:
    encoded = [v.encode("utf-8") if v is not None else b"" for v in values]
    ends = np.fromiter(itertools.accumulate(map(len, encoded)), dtype=np.int32, count=len(encoded))
    valid, nulls = _validity(values)
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(np.r_[np.int32(0), ends]),
                                       pa.py_buffer(b"".join(encoded)), valid, nulls)


def _validity(values: Sequence[Any]) -> tuple[pa.Buffer | None, int]:
    """Arrow's validity bitmap of a column (None when nothing is null) and its null count."""
    nulls = sum(v is None for v in values)
    bitmap = np.packbits([v is not None for v in values], bitorder="little") if nulls else None
    return (pa.py_buffer(bitmap) if bitmap is not None else None), nulls


def spreadsheet_safe(value: Any) -> Any:
    """Prefix a quote to cells a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    """A claims.csv cell: lists joined with |, None empty, formulas escaped."""
    if isinstance(value, list):
        return spreadsheet_safe("|".join(value))
    return "" if value is None else spreadsheet_safe(value)


def pydict(table: pa.Table) -> dict[str, list[Any]]:
    """A row group as Python lists, times as seconds since 1970 UTC: a zoned time read as a Python
    datetime makes pyarrow import pandas (0.5 s a run)."""
    return {name: (col.cast(TIME).cast(pa.int64()) if pa.types.is_timestamp(col.type) else col).to_pylist()
            for name, col in zip(table.column_names, table.columns, strict=True)}  # Parquet keeps them in ms


def iso_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    """A row group's rows, times in ISO 8601 UTC (claims.csv, export)."""
    columns = pydict(table)
    for name in columns:
        if pa.types.is_timestamp(table.schema.field(name).type):
            columns[name] = [None if v is None else datetime.fromtimestamp(v, UTC).isoformat() for v in columns[name]]
    for values in zip(*columns.values(), strict=True):
        yield dict(zip(columns, values, strict=True))


def write_claims_csv(parquet: Path, path: Path) -> int:
    """The claims as CSV, read back from their Parquet file a batch at a time: UTF-8 with a BOM, list
    cells joined with |, times as ISO 8601 in UTC, formula-looking cells escaped. Returns the rows written."""
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # the BOM: spreadsheet programs read it as UTF-8
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(SCHEMAS["claims"].names)
        for batch in row_groups(parquet):
            writer.writerows([csv_cell(v) for v in row.values()] for row in iso_rows(batch))
            rows += batch.num_rows
    return rows


def claims_jsonl(parquet: Path) -> Iterator[str]:
    """The claims as JSON lines (one object a claim, the Parquet columns, times in ISO 8601 UTC), read
    a row group at a time: for tools that take JSONL (LLM retrieval loaders, jq)."""
    for batch in row_groups(parquet):
        for row in iso_rows(batch):
            yield json.dumps(row, ensure_ascii=False)


def row_groups(path: Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """A Parquet file read back one row group at a time (this module writes them small). Not
    `iter_batches`: over thousands of row groups its reader keeps memory it no longer needs (216 MB
    after reading 100,000 pages' removals here; apache/arrow#39808 is the same accumulation). One
    thread: on row groups this small, pyarrow's thread pool cost 5x the reading (the report 0.16 -> 0.07 s)."""
    parquet = pq.ParquetFile(path)
    for i in range(parquet.num_row_groups):
        yield parquet.read_row_group(i, columns=columns, use_threads=False)


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
REPORT = "report.html"


def write_folder(folder: Path, built: dict[str, Batches], cfg: WriteConfig) -> dict[str, dict[str, Any]]:
    """Write every corpus file into the staging folder, each synced to disk; their rows and checksums."""
    files: dict[str, dict[str, Any]] = {}
    compression = None if cfg.compression == "none" else cfg.compression
    for name, batches in built.items():
        path = folder / f"{name}.parquet"
        rows = 0
        with pq.ParquetWriter(path, SCHEMAS[name], compression=compression) as writer:
            for batch in batches():
                writer.write_batch(batch)
                rows += batch.num_rows
        files[path.name] = {"rows": rows}
        checkpoint("write")
    if cfg.csv:
        files["claims.csv"] = {"rows": write_claims_csv(folder / "claims.parquet", folder / "claims.csv")}
    for name, info in files.items():
        _fsync(folder / name)
        info["sha256"] = sha256_file(folder / name)
    return files


def write_manifest(folder: Path, manifest: dict[str, Any], inputs: Iterable[dict[str, str]] = ()) -> None:
    """The manifest, last: the report (written after the corpus files) is synced with it. Its list of
    inputs, one entry per input however many there are, is written as it is read."""
    if (folder / REPORT).is_file():
        _fsync(folder / REPORT)
    head = json.dumps({**{k: v for k, v in manifest.items() if k != "inputs"}, "inputs": []},
                      ensure_ascii=False, indent=2)  # the list last, so it is written after everything else
    with (folder / MANIFEST).open("w", encoding="utf-8") as fh:
        fh.write(head[: -len("]\n}")])
        sep = "\n    "
        for entry in inputs:
            fh.write(sep + json.dumps(entry, ensure_ascii=False))
            sep = ",\n    "
        fh.write("\n  ]\n}" if sep != "\n    " else "]\n}")
    _fsync(folder / MANIFEST)
    _fsync(folder)


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


class OutputError(Exception):
    """An `--out` this program must not write to (exit code 2): nothing is touched."""


STAGING_MARK = ".pipeline-staging"  # inside a staging folder: this program made it, and may delete it


def staging_paths(out: Path) -> tuple[Path, Path]:
    """(new, old) sibling folders used while swapping `out`."""
    return out.with_name(f".{out.name}.new"), out.with_name(f".{out.name}.old")


def is_corpus(folder: Path) -> bool:
    """A folder this program wrote: its state is one of ours, or (a state gone bad, which --full
    rebuilds) its manifest is ours. Every corpus has both: they are swapped in together."""
    if (folder / state.FILE).is_file() and state.is_state(folder / state.FILE):
        return True
    try:
        with (folder / MANIFEST).open(encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"run_id", "pipeline_version", "outputs"} <= manifest.keys()


def _ours(folder: Path) -> bool:
    """A staging folder or a corpus this program made, or an empty folder (nothing to lose)."""
    return (folder / STAGING_MARK).is_file() or is_corpus(folder) or not any(folder.iterdir())


def check_out(out: Path, raw_dir: Path) -> None:
    """Refuse an output folder whose swap would destroy what this program did not write: RAW_DIR, a
    folder holding it or inside it (its own files would be read back as inputs), a file, a symlink,
    a folder of other files, or staging siblings that are not ours."""
    if out.is_symlink():
        raise OutputError(f"--out {out} is a symlink: give the folder it points to, or a new path")
    where, raw = out.resolve(), raw_dir.resolve()
    if where == raw or where in raw.parents:
        raise OutputError(f"--out {out} is RAW_DIR or a folder that holds it: give a new folder")
    if raw in where.parents:
        raise OutputError(f"--out {out} is inside RAW_DIR, whose files are the inputs: give a folder outside it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is not a folder")
    if out.is_dir() and not _ours(out):
        raise OutputError(f"--out {out} holds files this program did not write: give a new folder or an earlier "
                          "corpus")
    for sibling in staging_paths(out):
        if sibling.is_symlink() or (sibling.exists() and not (sibling.is_dir() and _ours(sibling))):
            raise OutputError(f"{sibling} is in the way and was not made by this program: move it")


def recover(out: Path) -> None:
    """Undo what an interrupted run left: restore the old corpus, drop half-written staging (only
    folders `check_out` found to be this program's)."""
    new, old = staging_paths(out)
    if not out.exists() and old.exists():
        old.rename(out)
        log.warning("restored the previous corpus after an interrupted run")
    for leftover in (new, old):
        if leftover.exists():
            shutil.rmtree(leftover)


def stage(out: Path) -> Path:
    """A fresh, empty staging folder beside `out` (marked as ours), after cleaning up an interrupted run."""
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    new, _ = staging_paths(out)
    new.mkdir()
    (new / STAGING_MARK).touch()
    return new


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def swap(out: Path, folder: Path) -> None:
    """Swap the finished staging folder in as `out` in one step; the previous corpus is removed."""
    checkpoint("swap")
    (folder / STAGING_MARK).unlink()
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
