"""Small text helpers shared by several stages (one definition, every caller)."""

from __future__ import annotations

import unicodedata
from functools import cache

from opencc import OpenCC


@cache
def converter(config: str) -> OpenCC:
    """One OpenCC instance per conversion (building one reads dictionaries from disk)."""
    return OpenCC(config)


def is_cjk(ch: str) -> bool:
    """A Han character (basic block and extension A, compatibility ideographs)."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def canonical(text: str) -> str:
    """Comparison key: Simplified, NFKC, lower-case, letters/digits/CJK only.

    Two wordings that differ only in script, width, punctuation or spacing share a key; it is the
    exact-dedup key and the way rules compare a line with the page title.
    """
    s = unicodedata.normalize("NFKC", converter("t2s").convert(text)).lower()
    return "".join(ch for ch in s if ch.isalnum())
