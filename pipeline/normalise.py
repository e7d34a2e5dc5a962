"""Normalise stage: clean Simplified Chinese with consistent width, punctuation and spacing.

Every step is idempotent (normalising twice equals normalising once), which the property tests
check. The page's original script is recorded before conversion.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .config import NormaliseConfig
from .model import Document, Drop, Stage
from .text import converter, is_cjk

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_OR_PUNCT = CJK + r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"

INVISIBLE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# 產(chǎn)品 / 運(yùn)營: pinyin with at least one tone mark in brackets right after a Han character.
PINYIN = re.compile(rf"(?<=[{CJK}])[(（]\s*[a-zü{TONE_VOWELS}]*[{TONE_VOWELS}][a-zü{TONE_VOWELS}]*\s*[)）]")

WIDE_ALNUM = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B) if chr(c - 0xFEE0).isalnum()}
WIDE_ALNUM.update({0xFF05: ord("%"), 0xFF0B: ord("+"), 0xFF1D: ord("="), 0xFF20: ord("@"), 0xFF03: ord("#")})

# ASCII punctuation that touches Chinese text becomes Chinese punctuation.
ASCII_TO_CN = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}
AFTER_CJK = re.compile(rf"(?<=[{CJK_OR_PUNCT}])\s*([,?!;:])(?!\d)")
BEFORE_CJK = re.compile(rf"([,?!;])\s*(?=[{CJK}])")
FULL_STOP = re.compile(rf"(?<=[{CJK}])\.(?=\s|$|[{CJK}])")
PARENS = re.compile(r"\(([^()]*)\)")
REPEATED = re.compile(r"([，。！？；：、])\1+")
CN_SPACE = re.compile(rf"(?<=[{CJK_OR_PUNCT}]) (?=[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20])"
                      rf"|(?<=[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]) (?=[{CJK}])")


def detect_script(text: str, converted: str) -> str:
    """simplified / traditional / mixed / none, from how many Han characters t2s changed."""
    han = sum(1 for ch in text if is_cjk(ch))
    if not han:
        return "none"
    changed = sum(1 for a, b in zip(text, converted, strict=False) if a != b and is_cjk(a))
    ratio = changed / han
    return "simplified" if ratio < 0.02 else "traditional" if ratio > 0.10 else "mixed"


def _parens(match: re.Match[str]) -> str:
    inner = match.group(1)
    start = match.start()
    before = match.string[start - 1] if start else ""
    if any(is_cjk(ch) for ch in inner) or (before and is_cjk(before)):
        return f"（{inner}）"
    return match.group(0)


def normalise_line(line: str, cfg: NormaliseConfig) -> str:
    """One line through width, punctuation and whitespace rules (script conversion is separate)."""
    line = INVISIBLE.sub("", line)
    if cfg.width:
        line = line.translate(WIDE_ALNUM)
    line = PINYIN.sub("", line)
    if cfg.whitespace:
        line = SPACES.sub(" ", line).strip()
    if cfg.punctuation:
        for _ in range(8):  # each rule can expose a new match for another: run to a fixed point
            before = line
            line = _punctuation(line)
            if line == before:
                break
    return line


def _punctuation(line: str) -> str:
    line = AFTER_CJK.sub(lambda m: ASCII_TO_CN[m.group(1)], line)
    line = BEFORE_CJK.sub(lambda m: ASCII_TO_CN[m.group(1)], line)
    line = FULL_STOP.sub("。", line)
    line = PARENS.sub(_parens, line)
    line = REPEATED.sub(r"\1", line)
    return CN_SPACE.sub("", line)


def convert_script(text: str, cfg: NormaliseConfig) -> str:
    return text if cfg.opencc == "none" else converter(cfg.opencc).convert(text)


def normalise_text(text: str, cfg: NormaliseConfig) -> str:
    """Script conversion plus line rules; what every caller (pages, titles, tests) uses."""
    return "\n".join(normalise_line(line, cfg) for line in convert_script(text, cfg).split("\n"))


def make(cfg: NormaliseConfig) -> Stage:
    def normalise(doc: Document) -> Document | Drop:
        joined = "\n".join(doc.lines)
        converted = converter("t2s").convert(joined)
        script = detect_script(joined, converted)
        if cfg.opencc != "t2s":
            converted = convert_script(joined, cfg)
        lines = tuple(s for line in converted.split("\n") if (s := normalise_line(line, cfg)))
        title = normalise_text(doc.title, cfg).replace("\n", " ") if doc.title else None
        return replace(doc, lines=lines, title=title, script=script) if lines else Drop("no text")

    return normalise
