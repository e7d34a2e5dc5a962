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
    exact-dedup key, which must hold across pages of any script.
    """
    return fold(converter("t2s").convert(text))


def fold(text: str) -> str:
    """`canonical` without the script conversion, for text the normalise stage already converted:
    how stages after it compare lines (with the title, with each other) and measure their length."""
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", text).lower()))
