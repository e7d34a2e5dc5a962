"""Read stage: walk RAW_DIR and turn every file into documents, or into a reported outcome.

Every file found is accounted for: it yields documents (HTML and text files, one per record for
`.jsonl` and WARC), or an `InputEvent` saying it was skipped or failed and why. Nothing raises out
of here for a bad file; inputs are opened read-only and never modified or moved.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import logging
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..config import ReadConfig
from ..model import Document, page_id

log = logging.getLogger(__name__)

MB = 1024 * 1024
JSONL_HTML_FIELDS = ("html", "raw_html", "content_html", "body")
JSONL_TEXT_FIELDS = ("text", "content", "markdown")
JSONL_URL_FIELDS = ("url", "source_url", "uri", "link")
JSONL_TITLE_FIELDS = ("title", "headline")
JSONL_DATE_FIELDS = ("published", "date", "published_at", "publish_time")


@dataclass(frozen=True, slots=True)
class InputEvent:
    """An input that yields no document (skipped, failed, sidecar, unchanged), or the note that an
    input file is being read ("read", with its digest) before its documents follow."""

    path: str
    outcome: str  # "skipped", "failed", "sidecar", "unchanged" or "read"
    reason: str = ""
    digest: str = ""
    input_path: str = ""  # the input file a record's event belongs to ("" for a file's own event)


class InputError(Exception):
    """A file that cannot be read as what its name says; becomes a 'failed' InputEvent."""


def corpus_name(rel: str) -> str:
    """A file's name in the corpus, lossless and always valid UTF-8: a byte that is not UTF-8
    (os.walk hands it over as a lone surrogate) is written `\\xNN`, and a backslash is doubled so
    that no real name can collide with an escaped one."""
    if "\\" not in rel and rel.isascii():
        return rel
    return rel.replace("\\", "\\\\").encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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
    root = raw_dir.resolve()
    for path in walk(raw_dir):
        rel = corpus_name(path.relative_to(raw_dir).as_posix())
        if path.is_symlink():
            target = Path(os.path.realpath(path))  # never raises: a loop resolves to where it loops
            if target != root and root not in target.parents:
                yield InputEvent(rel, "skipped", "symlink that leads outside RAW_DIR, not followed")
                continue
            if target.is_dir():
                yield InputEvent(rel, "skipped", "symlinked directory not followed")
                continue
        yield from read_path(path, rel, cfg, unchanged)


def read_path(path: Path, rel: str, cfg: ReadConfig, unchanged: Unchanged | None = None
              ) -> Iterator[Document | InputEvent]:
    """The documents of one file (`rel` is its name in the corpus), or the event saying why none."""
    kind, gz = classify(path.name, cfg)
    if kind is not None and not _regular(path):
        yield InputEvent(rel, "skipped", "not a regular file (a FIFO, device or socket is never read)")
    elif kind == "sidecar":
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
        except Exception as exc:  # a bug met on one input fails that input, never the night
            log.debug("reading %s crashed", rel, exc_info=True)
            yield InputEvent(rel, "failed", f"internal error: {type(exc).__name__}: {str(exc)[:200]}")


def _regular(path: Path) -> bool:
    """A regular file, after following a link: opening a FIFO blocks, and a device reads without end."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # unreadable: reading it fails with the reason


def fingerprint(path: Path, cfg: ReadConfig, data: bytes | None, sidecar: bytes | None) -> str:
    """Digest of the file's bytes (`data`, or read from `path` when None) and its URL sidecar's:
    what decides whether it changed."""
    digest = hashlib.sha256()
    if data is not None:
        digest.update(data)
    else:
        with _open(path, cfg) as fh:
            for block in _capped(fh, cfg):
                digest.update(block)
    if sidecar is not None:
        digest.update(b"\0" + sidecar)
    return digest.hexdigest()


SIDECAR_MAX = 64 * 1024  # a URL sidecar holds one URL


def _sidecar(path: Path, cfg: ReadConfig) -> bytes | None:
    side = path.with_name(path.name + cfg.url_sidecar_suffix)
    if side.is_symlink():  # a link could read a file outside RAW_DIR
        return None
    try:  # none, or not a regular file: _open says so
        with _open(side, cfg) as fh:
            return fh.read(SIDECAR_MAX)
    except InputError:
        return None


@contextlib.contextmanager
def _open(path: Path, cfg: ReadConfig) -> Iterator[io.BufferedReader]:
    """The file opened for reading without blocking (a FIFO put in its place after the walk), and
    checked on the descriptor itself to be a regular file within the size limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(f"unreadable: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file")
        if info.st_size > cfg.max_file_mb * MB:
            raise InputError(f"file too large: {info.st_size / MB:.1f} MB (limit {cfg.max_file_mb:g} MB)")
        try:
            yield fh
        except OSError as exc:
            raise InputError(f"unreadable: {exc.strerror or exc}") from None


def _capped(fh: io.BufferedReader, cfg: ReadConfig) -> Iterator[bytes]:
    """The file's blocks, failing past the size limit: a file that grows while it is read, or one
    whose size says 0 (/proc), cannot exhaust memory."""
    left = int(cfg.max_file_mb * MB)
    for block in iter(lambda: fh.read(1 << 20), b""):
        left -= len(block)
        if left < 0:
            raise InputError(f"file too large: grew past {cfg.max_file_mb:g} MB while read")
        yield block


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
    with _open(path, cfg) as fh:
        return b"".join(_capped(fh, cfg))


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
    yield _page(rel, rel, data, cfg, format=kind, source_url=_sidecar_url(sidecar))


def _page(where: str, rel: str, data: bytes, cfg: ReadConfig, **fields: Any) -> Document | InputEvent:
    """One page as a document, unless it is too large to be an article (then a failure with the reason)."""
    if len(data) > cfg.max_page_mb * MB:
        return InputEvent(where, "failed", f"page too large: {len(data) / MB:.1f} MB (limit {cfg.max_page_mb:g} MB)",
                          input_path=rel)
    found_at = fields.get("source_url") or where
    return Document(source_path=where, input_path=rel, raw=data, doc_id=page_id(data, found_at), **fields)


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
            yield InputEvent(where, "failed", f"invalid JSON: {exc}", input_path=rel)
            continue
        except RecursionError:
            yield InputEvent(where, "failed", "invalid JSON: nested too deeply", input_path=rel)
            continue
        if not isinstance(record, dict):
            yield InputEvent(where, "failed", "record is not a JSON object", input_path=rel)
            continue
        html = _first_str(record, JSONL_HTML_FIELDS)
        body = html if html is not None else _first_str(record, JSONL_TEXT_FIELDS)
        if body is None:
            yield InputEvent(where, "failed", f"record has none of {JSONL_HTML_FIELDS + JSONL_TEXT_FIELDS}",
                             input_path=rel)
            continue
        yield _page(where, rel, body.encode("utf-8", errors="surrogatepass"), cfg,
                    format="html" if html is not None else "text", source_url=_first_str(record, JSONL_URL_FIELDS),
                    title=_first_str(record, JSONL_TITLE_FIELDS), published=_first_str(record, JSONL_DATE_FIELDS),
                    declared_encoding="utf-8")


def _charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


MISFRAMED = "record does not end where its Content-Length says (truncated, or run into the next record)"


def _read_warc(path: Path, rel: str, cfg: ReadConfig) -> Iterator[Document | InputEvent]:
    """A WARC's response and resource records. A record's page is given out only once the reader has
    found the next record where its length said (warcio counts a misplaced end in `err_count`): a
    wrong Content-Length is that record's failure, never a page cut short or merged with the next."""
    limit = int(cfg.max_decompressed_mb * MB)
    with _open(path, cfg) as fh:
        records = ArchiveIterator(fh)
        it = iter(records)
        n = 0
        held: Document | InputEvent | None = None
        while True:
            errors, failure = records.err_count, None
            try:
                with contextlib.redirect_stderr(io.StringIO()):  # warcio prints its framing warnings
                    record = next(it, None)
            except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError, AttributeError) as exc:
                record, failure = None, exc  # AttributeError: warcio on a response without WARC-Target-URI
            if held is not None:
                yield held if records.err_count == errors else InputEvent(held.source_path, "failed", MISFRAMED,
                                                                          input_path=rel)
                held = None
            if failure is not None:
                why = ("a record warcio cannot parse (no WARC-Target-URI?)" if isinstance(failure, AttributeError)
                       else " ".join(str(failure).split()) or type(failure).__name__)
                raise InputError(f"corrupt WARC after {n} records: {why}")
            if record is None:
                break
            if record.rec_type not in ("response", "resource"):
                continue
            n += 1
            where = f"{rel}#{n}"
            headers = record.http_headers
            ctype = headers.get_header("Content-Type") if headers else record.rec_headers.get_header("Content-Type")
            if ctype and "html" not in ctype.lower() and "text" not in ctype.lower():
                yield InputEvent(where, "skipped", f"not text: {ctype}", input_path=rel)
                continue
            body = record.content_stream().read(limit + 1)
            if len(body) > limit:
                yield InputEvent(where, "failed", f"record larger than {cfg.max_decompressed_mb:g} MB", input_path=rel)
                continue
            if record.raw_stream.read(1) == b"" and getattr(record.raw_stream, "limit", 0) > 0:
                yield InputEvent(where, "failed", MISFRAMED, input_path=rel)  # the file ends inside the record
                continue
            if not body.strip():
                yield InputEvent(where, "failed", "empty record", input_path=rel)
                continue
            fmt = "text" if ctype and "text/plain" in ctype.lower() else "html"
            held = _page(where, rel, body, cfg, format=fmt, source_url=record.rec_headers.get_header("WARC-Target-URI"),
                         declared_encoding=_charset_of(ctype))
        if n == 0:
            raise InputError("WARC holds no response records")
