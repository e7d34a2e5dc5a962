"""Small text helpers shared by several stages (one definition, every caller)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
from opencc import OpenCC

# The function words prose cannot do without (jusText's stop-word idea): their density tells prose
# from furniture and fragments (chrome lines, claim candidates).
FUNCTION_CHARS = frozenset("的了是在和也就与及或对为将把被从而但并这那有以其之所等中都要会能可让使")
CLAUSE_MARKS = frozenset("，、；：,;:")


@cache
def converter(config: str) -> OpenCC:
    """One OpenCC instance per conversion (building one reads dictionaries from disk)."""
    return OpenCC(config)


CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))  # Han: basic, extension A, compatibility


def is_cjk(ch: str) -> bool:
    """A Han character (CJK_RANGES, spelled out: this runs per character)."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def cjk_mask(points: np.ndarray) -> np.ndarray:
    """`is_cjk` of every code point at once."""
    return np.logical_or.reduce([(points >= first) & (points <= last) for first, last in CJK_RANGES])


def canonical(text: str) -> str:
    """Comparison key: Simplified, NFKC, lower-case, letters/digits/CJK only.

    Two wordings that differ only in script, width, punctuation or spacing share a key; it is the
    exact-dedup key, which must hold across pages of any script.
    """
    return fold(converter("t2s").convert(text))


def fold(text: str) -> str:
    """`canonical` without the script conversion, for text the normalise stage already converted:
    how stages after it compare lines (with the title, with each other) and measure their length.

    Every stage folds every line, so text made only of characters that fold one by one (nearly
    all of it) takes a fast path with the same result: drop, map, lower-case. Nothing in the fold
    reaches across a line break, so a page folds line by line, each line by the fastest path it can.
    """
    if SIMPLE.fullmatch(text):
        text = FOLD_DROP.sub("", text)
        return (text.translate(FOLD_MAP) if FOLD_MAPPED.search(text) else text).lower()
    if "\n" in text:
        return "".join(map(fold, text.split("\n")))
    return fold_nfkc(text)


def fold_nfkc(text: str) -> str:
    """The definition of the fold: NFKC, lower-case, letters/digits/CJK only (any text)."""
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", text).lower()))


def _simple_alphabet() -> tuple[re.Pattern[str], re.Pattern[str], dict[int, str]]:
    """Characters whose fold does not depend on their neighbours: ASCII, general and CJK punctuation,
    CJK ideographs, full-width forms; none is or decomposes to a combining mark, and none is Hangul,
    so NFKC never composes across them. Returns the alphabet, the characters that fold to nothing,
    and the ones that fold to something else (full-width letters and digits, Hangzhou numerals)."""
    simple: list[str] = []
    drop: list[str] = []
    mapped: dict[int, str] = {}
    for lo, hi in ((0x09, 0x0D), (0x20, 0x7E), (0x2010, 0x2027), (0x2030, 0x205E), (0x3000, 0x303F),
                   (0xFF01, 0xFF5E)):
        for ch in map(chr, range(lo, hi + 1)):
            nfkc = unicodedata.normalize("NFKC", ch)
            if unicodedata.category(ch) == "Cn" or any(unicodedata.combining(c) for c in ch + nfkc):
                continue
            simple.append(re.escape(ch))
            folded = fold_nfkc(ch)
            if not folded:
                drop.append(re.escape(ch))
            elif folded != ch.lower():
                mapped[ord(ch)] = folded
    # CJK Unified Ideographs (U+4E00-U+9FFF): each is a letter and its own NFKC (tests/test_text.py).
    return re.compile(f"[{''.join(simple)}\u4e00-\u9fff]*"), re.compile(f"[{''.join(drop)}]+"), mapped


SIMPLE, FOLD_DROP, FOLD_MAP = _simple_alphabet()
FOLD_MAPPED = re.compile(f"[{''.join(map(re.escape, map(chr, FOLD_MAP)))}]")


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text safe for one log or terminal line: control characters (newline, ESC …) written as escapes."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def is_common(text: str) -> bool:
    """All in GB 2312 (a character or a run of them): real Simplified text, decoded right, is nearly
    all such characters; chance decodings and injected noise are not."""
    try:
        text.encode("gb2312")
    except UnicodeError:
        return False
    return True
