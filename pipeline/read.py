"""Read stage: walk RAW_DIR and turn every file into documents, or into a reported outcome.

Every file found is accounted for: it yields documents (HTML and text files, one per record for
`.jsonl` and WARC), or an `InputEvent` saying it was skipped or failed and why. Nothing raises out
of here for a bad file; inputs are opened read-only and never modified or moved.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from .config import ReadConfig
from .model import Document, content_id

log = logging.getLogger(__name__)

MB = 1024 * 1024
JSONL_HTML_FIELDS = ("html", "raw_html", "content_html", "body")
JSONL_TEXT_FIELDS = ("text", "content", "markdown")
JSONL_URL_FIELDS = ("url", "source_url", "uri", "link")


@dataclass(frozen=True, slots=True)
class InputEvent:
    """An input that yields no document (skipped, failed, sidecar, unchanged), or the note that an
    input file is being read ("read", with its digest) before its documents follow."""

    path: str
    outcome: str  # "skipped", "failed", "sidecar", "unchanged" or "read"
    reason: str = ""
    digest: str = ""


class InputError(Exception):
    """A file that cannot be read as what its name says; becomes a 'failed' InputEvent."""


def walk(raw_dir: Path) -> Iterator[Path]:
    """Files under raw_dir in a stable order; symlinked directories are not followed (no loops)."""
    for root, dirs, files in os.walk(raw_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            yield Path(root) / name


Unchanged = Callable[[str, str], bool]  # (path in the corpus, digest) -> already ingested as it is


def read_inputs(raw_dir: Path, cfg: ReadConfig, unchanged: Unchanged | None = None) -> Iterator[Document | InputEvent]:
    """Every document and every non-document outcome under raw_dir.

    With `unchanged`, each input file is first fingerprinted; one the state already holds with the
    same digest is reported "unchanged" without being parsed, any other is announced "read".
    """
    for path in walk(raw_dir):
        rel = path.relative_to(raw_dir).as_posix()
        if path.is_symlink() and path.is_dir():
            yield InputEvent(rel, "skipped", "symlinked directory not followed")
            continue
        yield from read_path(path, rel, cfg, unchanged)


def read_path(path: Path, rel: str, cfg: ReadConfig, unchanged: Unchanged | None = None
              ) -> Iterator[Document | InputEvent]:
    """The documents of one file (`rel` is its name in the corpus), or the event saying why none."""
    kind, gz = classify(path.name, cfg)
    if kind == "sidecar":
        yield InputEvent(rel, "sidecar", "URL sidecar of " + path.name.removesuffix(cfg.url_sidecar_suffix))
    elif kind is None:
        yield InputEvent(rel, "skipped", "not an input kind (html, htm, txt, md, jsonl, warc, gz of these)")
    else:
        try:
            # Read once, then fingerprinted and parsed; a WARC is streamed (both times) instead.
            data = None if kind == "warc" else _read_raw(path, cfg)
            sidecar = _sidecar(path, cfg)
            if unchanged is not None:
                digest = fingerprint(path, cfg, data, sidecar)
                if unchanged(rel, digest):
                    yield InputEvent(rel, "unchanged", digest=digest)
                    return
                yield InputEvent(rel, "read", digest=digest)
            yield from _read_file(path, rel, kind, gz, cfg, data, sidecar)
        except InputError as exc:
            yield InputEvent(rel, "failed", str(exc))


def fingerprint(path: Path, cfg: ReadConfig, data: bytes | None, sidecar: bytes | None) -> str:
    """Digest of the file's bytes (`data`, or read from `path` when None) and its URL sidecar's:
    what decides whether it changed."""
    digest = hashlib.sha256()
    if data is not None:
        digest.update(data)
    else:
        try:
            _check_size(path, cfg)
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise InputError(f"unreadable: {exc.strerror or exc}") from None
    if sidecar is not None:
        digest.update(b"\0" + sidecar)
    return digest.hexdigest()


def _sidecar(path: Path, cfg: ReadConfig) -> bytes | None:
    try:
        return path.with_name(path.name + cfg.url_sidecar_suffix).read_bytes()
    except OSError:
        return None


def _check_size(path: Path, cfg: ReadConfig) -> None:
    size = path.stat().st_size
    if size > cfg.max_file_mb * MB:
        raise InputError(f"file too large: {size / MB:.1f} MB (limit {cfg.max_file_mb:g} MB)")


def classify(name: str, cfg: ReadConfig) -> tuple[str | None, bool]:
    """(kind, gzipped) from the file name: kind is html, text, jsonl, warc, sidecar or None."""
    lower = name.lower()
    if lower.endswith(cfg.url_sidecar_suffix):
        return "sidecar", False
    if lower.endswith((".warc", ".warc.gz")):
        return "warc", False  # warcio reads per-record gzip itself
    gz = lower.endswith(".gz")
    stem = lower.removesuffix(".gz")
    suffix = os.path.splitext(stem)[1]
    if suffix in cfg.html_suffixes:
        return "html", gz
    if suffix in cfg.text_suffixes:
        return "text", gz
    if suffix == ".jsonl":
        return "jsonl", gz
    return None, False


def _read_raw(path: Path, cfg: ReadConfig) -> bytes:
    """The file's bytes as they are on disk."""
    try:
        _check_size(path, cfg)
        with path.open("rb") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"unreadable: {exc.strerror or exc}") from None


def gunzip(data: bytes, limit_mb: float) -> bytes:
    """Decompress with a size cap, so a corrupt or hostile gzip fails cleanly."""
    limit = int(limit_mb * MB)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"corrupt gzip: {exc}") from None
    if len(out) > limit:
        raise InputError(f"gzip expands beyond {limit_mb:g} MB")
    return out


def _sidecar_url(sidecar: bytes | None) -> str | None:
    try:
        url = sidecar.decode("utf-8").strip() if sidecar is not None else None
    except UnicodeDecodeError:
        return None
    return url or None


def _read_file(path: Path, rel: str, kind: str, gz: bool, cfg: ReadConfig, data: bytes | None,
               sidecar: bytes | None) -> Iterator[Document | InputEvent]:
    if data is None:  # a WARC, streamed
        yield from _read_warc(path, rel, cfg)
        return
    if gz:
        data = gunzip(data, cfg.max_decompressed_mb)
    if not data.strip():
        raise InputError("empty file")
    if kind == "jsonl":
        yield from _read_jsonl(data, rel, cfg)
        return
    yield _page(rel, data, cfg, format=kind, source_url=_sidecar_url(sidecar))


def _page(where: str, data: bytes, cfg: ReadConfig, **fields: Any) -> Document | InputEvent:
    """One page as a document, unless it is too large to be an article (then a failure with the reason)."""
    if len(data) > cfg.max_page_mb * MB:
        return InputEvent(where, "failed", f"page too large: {len(data) / MB:.1f} MB (limit {cfg.max_page_mb:g} MB)")
    return Document(source_path=where, raw=data, doc_id=content_id(data), **fields)


def _first_str(record: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _read_jsonl(data: bytes, rel: str, cfg: ReadConfig) -> Iterator[Document | InputEvent]:
    for n, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{rel}#{n}"
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            yield InputEvent(where, "failed", f"invalid JSON: {exc}")
            continue
        if not isinstance(record, dict):
            yield InputEvent(where, "failed", "record is not a JSON object")
            continue
        html = _first_str(record, JSONL_HTML_FIELDS)
        body = html if html is not None else _first_str(record, JSONL_TEXT_FIELDS)
        if body is None:
            yield InputEvent(where, "failed", f"record has none of {JSONL_HTML_FIELDS + JSONL_TEXT_FIELDS}")
            continue
        yield _page(where, body.encode("utf-8", errors="surrogatepass"), cfg,
                    format="html" if html is not None else "text", source_url=_first_str(record, JSONL_URL_FIELDS),
                    declared_encoding="utf-8")


def _charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _read_warc(path: Path, rel: str, cfg: ReadConfig) -> Iterator[Document | InputEvent]:
    try:
        _check_size(path, cfg)
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"unreadable: {exc.strerror or exc}") from None
    limit = int(cfg.max_decompressed_mb * MB)
    with fh:
        n = 0
        try:
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "resource"):
                    continue
                n += 1
                where = f"{rel}#{n}"
                headers = record.http_headers
                ctype = headers.get_header("Content-Type") if headers else record.rec_headers.get_header(
                    "Content-Type")
                if ctype and "html" not in ctype.lower() and "text" not in ctype.lower():
                    yield InputEvent(where, "skipped", f"not text: {ctype}")
                    continue
                body = record.content_stream().read(limit + 1)
                if len(body) > limit:
                    yield InputEvent(where, "failed", f"record larger than {cfg.max_decompressed_mb:g} MB")
                    continue
                if not body.strip():
                    yield InputEvent(where, "failed", "empty record")
                    continue
                fmt = "text" if ctype and "text/plain" in ctype.lower() else "html"
                yield _page(where, body, cfg, format=fmt, source_url=record.rec_headers.get_header("WARC-Target-URI"),
                            declared_encoding=_charset_of(ctype))
        except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
            raise InputError(f"corrupt WARC after {n} records: {exc}") from None
        if n == 0:
            raise InputError("WARC holds no response records")
