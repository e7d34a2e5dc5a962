"""Decode stage: bytes to text, whatever encoding the page used.

Order of evidence, most trusted first: a byte-order mark; a declaration (transport header, the
page's own `<meta charset>`, an XML or wrapper `encoding=`) that also decodes cleanly; strict UTF-8;
the Chinese legacy encodings; charset-normalizer's guess. GBK and GB2312 are read as GB18030 (a
superset: pages labelled GB2312 routinely hold GBK characters), Big5 as Big5-HKSCS.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import replace

from charset_normalizer import from_bytes

from ..config import DecodeConfig
from ..model import Document, Drop, Stage
from ..text import is_cjk

log = logging.getLogger(__name__)

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
             "cp936": "gb18030", "euc-cn": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs",
             "x-euc-tw": "big5hkscs", "iso-8859-1": "cp1252", "latin-1": "cp1252", "us-ascii": "utf-8",
             "ascii": "utf-8", "unicode": "utf-16"}
# Matched on lower-cased bytes: a case-insensitive pattern cannot scan for its first letters (3x slower).
DECLARATION = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([a-z0-9_.:-]{2,40})""")
SNIFF_BYTES = 4096
ASCII_BYTES = bytes(range(0x80))
NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))  # deleted, the control bytes are left


def canonical_encoding(name: str | None) -> str | None:
    """The Python codec to use for a declared name, or None when Python does not know it."""
    if not name:
        return None
    label = name.strip().lower()
    if label in ("unset", "none", "auto"):
        return None
    label = SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name.replace("_", "-")
    except LookupError:
        return None


def _decoded(data: bytes, encoding: str) -> str | None:
    """The data decoded (undecodable sequences as U+FFFD), or None when the codec cannot run at all."""
    try:
        return data.decode(encoding, errors="replace")
    except (LookupError, ValueError):
        return None


def _acceptable(data: bytes, text: str | None, max_ratio: float) -> bool:
    """Few enough undecodable sequences in `text`, the data decoded with a candidate codec."""
    if text is None:
        return False
    non_ascii = len(data.translate(None, ASCII_BYTES)) or 1  # C speed: this runs per candidate
    return text.count("\ufffd") / non_ascii <= max_ratio


def declared(data: bytes) -> list[str]:
    """Encodings a page declares about itself near its start (meta, XML prolog, wrapper attribute).
    A page that can declare itself in ASCII is not UTF-16 or UTF-32: the HTML standard reads such a
    declaration as UTF-8."""
    found = []
    for match in DECLARATION.finditer(data[:SNIFF_BYTES].lower()):
        enc = canonical_encoding(match.group(1).decode("ascii", errors="ignore"))
        enc = "utf-8" if enc and enc.startswith(("utf-16", "utf-32")) else enc
        if enc and enc not in found:
            found.append(enc)
    return found


def detect(data: bytes, cfg: DecodeConfig, hints: list[str]) -> tuple[str, str]:
    """Choose the encoding for `data` (always a usable codec name), with the text it gives (a
    byte-order mark that the rest does not bear out is left out of it)."""
    marked = False  # a byte-order mark that its encoding did not bear out: no guessing after the Chinese codecs
    for bom, enc in BOMS:
        if data.startswith(bom):
            text = _decoded(data, enc)
            if _acceptable(data, text, cfg.max_error_ratio):
                return enc, text
            data, marked = data[len(bom):], True  # a mark followed by bytes of another encoding: the rest decides
            break
    try:
        utf8: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
        if (mixed := _mixed(data)) is not None:
            return MIXED, mixed
    for enc in hints:
        text = utf8 if enc == "utf-8" and utf8 is not None else _decoded(data, enc)
        if _acceptable(data, text, cfg.max_error_ratio):
            return enc, text
    if utf8 is not None:
        return "utf-8", utf8
    candidates = [c for c in (canonical_encoding(c) for c in cfg.detect_candidates) if c]
    decoded = {c: text for c in candidates if (text := _decoded(data, c)) is not None}
    scored = sorted((decoded[c].count("\ufffd"), i, c) for i, c in enumerate(candidates) if c in decoded)
    clean = [c for e, _, c in scored if e == 0]
    if len(clean) > 1:
        best = from_bytes(data, cp_isolation=clean).best()
        if best is not None:
            guess = canonical_encoding(best.encoding)
            return (guess, decoded.get(guess)) if guess else (clean[0], decoded[clean[0]])
    if clean:
        return clean[0], decoded[clean[0]]
    if scored and (marked or _acceptable(data, decoded[scored[0][2]], cfg.max_error_ratio)):
        return scored[0][2], decoded[scored[0][2]]
    best = from_bytes(data).best()
    guess = canonical_encoding(best.encoding) if best is not None else None
    if guess and (text := _decoded(data, guess)) is not None:
        return guess, text
    return (scored[0][2], decoded[scored[0][2]]) if scored else ("utf-8", data.decode("utf-8", errors="replace"))


UNDECODABLE = 0.25  # a page with more of its non-ASCII characters invalid than this is not text in any encoding
MIXED = "utf-8+gb18030"  # the encoding of a file whose lines are partly UTF-8, partly GB18030
MIXED_MIN_BYTES = 6  # a line counts as UTF-8 with at least this many non-ASCII bytes (chance matches are shorter)


def _mixed(data: bytes) -> str | None:
    """The text of a file that is UTF-8 in some lines and GBK/GB18030 in others (two files pasted
    together), decoded line by line; None for a file in one encoding (called when it is not UTF-8).
    Whole, it would be read as GB18030, which turns every UTF-8 line into nonsense without an error."""
    lines = data.split(b"\n")
    utf8 = [_utf8_line(line) for line in lines]
    if not any(utf8):
        return None
    rest = [line for line, is_utf8 in zip(lines, utf8, strict=True) if not is_utf8 and not line.isascii()]
    try:
        gb = [line.decode("gb18030") for line in rest]
    except UnicodeDecodeError:
        return None
    if not gb:
        return None
    log.warning("mixed encodings: %d lines UTF-8, %d lines GB18030; decoded line by line", sum(utf8), len(gb))
    decoded = iter(gb)
    return "\n".join(line.decode("utf-8") if is_utf8 or line.isascii() else next(decoded)
                     for line, is_utf8 in zip(lines, utf8, strict=True))


def _utf8_line(line: bytes) -> bool:
    """A line that is Chinese in UTF-8 beyond chance: valid, and most of its non-ASCII characters
    Han. GBK bytes are often valid UTF-8 by accident (双学位 reads as ˫ѧλ), but as two-byte Latin,
    Greek or Cyrillic letters, hardly ever as a run of three-byte Han characters."""
    if len(line.translate(None, ASCII_BYTES)) < MIXED_MIN_BYTES:
        return False
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if ord(ch) > 0x7F]
    return sum(map(is_cjk, wide)) >= max(2, 0.5 * len(wide))


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control bytes in the first block mean this is not a text page (a UTF-16 or
    UTF-32 page is full of NULs: its mark is trusted when the block decodes cleanly after it)."""
    head = data[:SNIFF_BYTES]
    for bom, enc in BOMS:
        if head.startswith(bom) and enc.startswith(("utf-16", "utf-32")):
            if "\ufffd" not in codecs.getincrementaldecoder(enc)(errors="replace").decode(head, final=False):
                return False
            head = head[len(bom):]
            break
    controls = len(head.translate(None, NOT_CONTROL))
    return b"\x00" in head or controls > len(head) * 0.05


def make(cfg: DecodeConfig) -> Stage:
    def decode(doc: Document) -> Document | Drop:
        data = doc.raw
        if looks_binary(data):
            return Drop("binary content", "not a text or HTML page", failure=True)
        transport = canonical_encoding(doc.declared_encoding)
        hints = ([transport] if transport else []) + (declared(data) if doc.format == "html" else [])
        encoding, text = detect(data, cfg, hints)
        if "\ufffd" in text and text.count("\ufffd") > UNDECODABLE * (len(text) - len(text.encode("ascii", "ignore"))):
            return Drop("undecodable", f"no encoding reads it: most characters came out invalid as {encoding}",
                        failure=True)
        if encoding == "utf-8-sig":
            encoding = "utf-8"
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return replace(doc, encoding=encoding, content=text, chars_raw=len(text))

    return decode
