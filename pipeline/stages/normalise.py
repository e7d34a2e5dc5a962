"""Normalise stage: clean Simplified Chinese with consistent width, punctuation and spacing.

Order matters: mojibake is repaired on the text as decoded (script conversion would scramble the
bytes it reverses), then the script is converted, then each line goes through annotation and
noise removal, width, whitespace and punctuation. Every step is idempotent (normalising twice
equals normalising once), which the property tests check. The page's original script is recorded
before conversion.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import ftfy
import numpy as np

from ..config import NormaliseConfig
from ..model import Document, Drop, Stage
from ..text import cjk_mask, code_points, converter, is_cjk, is_common

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CN_PUNCT = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201d\u2026"
CJK_OR_PUNCT = CJK + CN_PUNCT

INVISIBLE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")

# Pinyin that content farms put after characters. A syllable is an optional initial and a final;
# one tone-marked vowel makes it pinyin rather than Latin text ("café" and "Hello" never match).
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYL = rf"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?[aeiouüv{TONE_VOWELS}]*[{TONE_VOWELS}][aeiouüv{TONE_VOWELS}]*(?:ng|n|r)?"
_SYLS = rf"{_SYL}(?:\s+{_SYL})*"
_LABELS = "拼音|注音|读音|读|讀|繁体|繁體|繁|简体|練|练|pinyin"
ANNOTATION = re.compile(
    # 產(chǎn)品, 运(yùn)营: bracketed pinyin right after a character
    rf"(?<=[{CJK}])[(（]\s*{_SYLS}\s*[)）]"
    # {练:pǐn}, ｛拼音:hé｝: braces never occur in prose, so any short label
    rf"|[{{｛]\s*[^{{}}｛｝:：\n]{{1,8}}[:：]\s*(?:{_SYLS}|[{CJK}]{{1,3}})\s*[}}｝]"
    # 《拼音:hé》, (繁体:個), 【读:yùn】: other brackets only with a known label
    rf"|[(（《【\[]\s*(?:{_LABELS})\s*[:：]\s*(?:{_SYLS}|[{CJK}]{{1,3}})\s*[)）》】\]]"
    # 主zhǔ 要: a bare syllable glued to the character before it
    rf"|(?<=[{CJK}]){_SYL}(?![A-Za-z{TONE_VOWELS}])\s?",
    re.I,
)
# Symbols (enclosed ideographs, dingbats, emoji, shapes, stars) wedged between two characters.
SYMBOLS = r"\u2190-\u21ff\u2460-\u27bf\u2b00-\u2bff\u3200-\u32ff\U0001f000-\U0001faff\ufe0f"
NOISE = re.compile(rf"(?<=[{CJK}])[{SYMBOLS}]+(?=[{CJK}])")
# Each rule's cheap precondition: a line without it is left as it is, which spares most lines
# the rule's lookbehinds (a whole line scan per rule, several times over for the fixed points).
MAY_ANNOTATE = re.compile(rf"[{TONE_VOWELS}{{｛:：]", re.I)  # every ANNOTATION branch needs one
MAY_NOISE = re.compile(rf"[{SYMBOLS}]")

# Mojibake: UTF-8 bytes read as Latin-1/cp1252 show as runs of accented Latin letters (ftfy fixes
# those); read as GBK they show as rare characters that re-encode to valid UTF-8.
LATIN_MOJIBAKE = re.compile(r"[\u00c0-\u00ff][\u0080-\u00ff\u0152-\u2122]")
GBK_MOJIBAKE = re.compile(r"[鍙鐨涓浜杩鏄銆锛鈥瀹缁璇闂绗]")

WIDE_ALNUM = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B) if chr(c - 0xFEE0).isalnum()}
WIDE_ALNUM.update({0xFF05: ord("%"), 0xFF0B: ord("+"), 0xFF1D: ord("="), 0xFF20: ord("@"), 0xFF03: ord("#")})
WIDE = re.compile("[" + "".join(map(chr, sorted(WIDE_ALNUM))) + "]")

# ASCII punctuation that touches Chinese text becomes Chinese punctuation.
ASCII_TO_CN = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}
AFTER_CJK = re.compile(rf"(?<=[{CJK_OR_PUNCT}])\s*([,?!;:])(?!\d)")
BEFORE_CJK = re.compile(rf"([,?!;])\s*(?=[{CJK}])")
FULL_STOP = re.compile(rf"(?<=[{CJK}])\.(?=\s|$|[{CJK}])")
LAST_STOP = re.compile(r"(?<=[\d%）”])\.$")  # "利润率为0.49%." ends a Chinese sentence
HAS_CJK = re.compile(rf"[{CJK}]")
PARENS = re.compile(r"\(([^()]*)\)")
ELLIPSIS = re.compile(rf"(?<=[{CJK}])(?:\.{{3,}}|…{{3,}}|…(?!…))")
QUOTES = re.compile(r'"([^"\n]*)"')
REPEATED = re.compile(r"([，。！？；：、])\1+")
CN_SPACE = re.compile(rf"(?<=[{CJK_OR_PUNCT}]) (?=[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20])"
                      rf"|(?<=[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]) (?=[{CJK}])")
ASCII_MARK = re.compile("[,?!;:]")  # what AFTER_CJK and BEFORE_CJK need


def detect_script(text: str, converted: str) -> str:
    """simplified / traditional / mixed / none, from how many Han characters t2s changed."""
    if text == converted:  # most pages: nothing to convert, no need to count or compare characters
        return "simplified" if HAS_CJK.search(text) else "none"
    before, after = code_points(text), code_points(converted)
    is_han = cjk_mask(before)
    han = int(np.count_nonzero(is_han))
    if not han:
        return "none"
    both = min(len(before), len(after))  # compared position by position, as far as both go
    changed = int(np.count_nonzero(is_han[:both] & (before[:both] != after[:both])))
    ratio = changed / han
    return "simplified" if ratio < 0.02 else "traditional" if ratio > 0.10 else "mixed"


def _parens(match: re.Match[str]) -> str:
    inner = match.group(1)
    start = match.start()
    before = match.string[start - 1] if start else ""
    if any(is_cjk(ch) for ch in inner) or (before and is_cjk(before)):
        return f"（{inner}）"
    return match.group(0)


def _quotes(match: re.Match[str]) -> str:
    """"运营" becomes “运营” when it quotes or touches Chinese; "Hello" between Latin words stays."""
    text, start, end = match.string, match.start(), match.end()
    around = text[start - 1: start] + match.group(1) + text[end: end + 1]
    return f"“{match.group(1)}”" if any(is_cjk(ch) for ch in around) else match.group(0)


def _fixed_point(rule: Callable[[str], str], line: str) -> str:
    """Apply a rule until nothing changes: one removal or replacement can expose the next."""
    for _ in range(8):
        before = line
        line = rule(line)
        if line == before:
            break
    return line


def _gbk_repair(line: str) -> str:
    try:
        fixed = line.encode("gb18030").decode("utf-8")
    except UnicodeError:
        return line
    han = [ch for ch in fixed if is_cjk(ch)]
    return fixed if len(han) >= 2 and sum(map(is_common, han)) >= 0.9 * len(han) else line


def _repair_once(text: str) -> str:
    if LATIN_MOJIBAKE.search(text):
        text = ftfy.fix_encoding(text)
    if GBK_MOJIBAKE.search(text):
        text = "\n".join(_gbk_repair(line) if GBK_MOJIBAKE.search(line) else line for line in text.split("\n"))
    return text


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1/cp1252 (ftfy) or as GBK (re-encode, strict UTF-8 decode).

    Only text that round-trips exactly is changed, so correct Chinese is never touched; a
    doubly garbled line is repaired in a second pass.
    """
    return _fixed_point(_repair_once, text)


def normalise_line(line: str, cfg: NormaliseConfig) -> str:
    """One line through annotation, noise, width, whitespace and punctuation rules."""
    line = INVISIBLE.sub("", line)
    if cfg.width and WIDE.search(line):
        line = line.translate(WIDE_ALNUM)
    if cfg.annotations and MAY_ANNOTATE.search(line):
        line = _fixed_point(lambda s: ANNOTATION.sub("", s), line)
    if cfg.noise and MAY_NOISE.search(line):
        line = NOISE.sub("", line)
    if cfg.whitespace:
        line = SPACES.sub(" ", line).strip()
    if cfg.punctuation:
        line = _fixed_point(_punctuation, line)
    return line


def _punctuation(line: str) -> str:
    """One pass of the punctuation rules; each runs only on a line with the mark it needs, which
    spares most lines every rule's lookbehind scans."""
    if ASCII_MARK.search(line):
        line = AFTER_CJK.sub(lambda m: ASCII_TO_CN[m.group(1)], line)
        line = BEFORE_CJK.sub(lambda m: ASCII_TO_CN[m.group(1)], line)
    if "." in line or "…" in line:
        line = ELLIPSIS.sub("……", line)
    if "." in line:
        line = FULL_STOP.sub("。", line)
        if line.endswith(".") and HAS_CJK.search(line):
            line = LAST_STOP.sub("。", line)
    if "(" in line:
        line = PARENS.sub(_parens, line)
    if '"' in line:
        line = QUOTES.sub(_quotes, line)
    if REPEATED.search(line):  # sub's own scan costs 4x a search
        line = REPEATED.sub(r"\1", line)
    return CN_SPACE.sub("", line) if " " in line else line


def to_script(text: str, cfg: NormaliseConfig) -> str:
    return text if cfg.opencc == "none" else converter(cfg.opencc).convert(text)


def convert(text: str, cfg: NormaliseConfig) -> str:
    """Mojibake repair, then script conversion: the whole-text steps, before the line rules."""
    return to_script(repair_mojibake(text) if cfg.mojibake else text, cfg)


def _line_rules(text: str, cfg: NormaliseConfig) -> str:
    return "\n".join(normalise_line(line, cfg) for line in text.split("\n"))


def _settle(text: str, cfg: NormaliseConfig) -> str:
    """Normalise again while the text still looks garbled: removing a control or zero-width
    character can join the bytes of a mojibake sequence that the first repair could not see."""
    for _ in range(3):
        if not (cfg.mojibake and (LATIN_MOJIBAKE.search(text) or GBK_MOJIBAKE.search(text))):
            break
        again = _line_rules(convert(text, cfg), cfg)
        if again == text:
            break
        text = again
    return text


def normalise_text(text: str, cfg: NormaliseConfig) -> str:
    """Whole-text steps plus line rules; what every caller (pages, titles, tests) uses."""
    return _settle(_line_rules(convert(text, cfg), cfg), cfg)


def make(cfg: NormaliseConfig) -> Stage:
    def normalise(doc: Document) -> Document | Drop:
        joined = "\n".join(doc.lines)
        if cfg.mojibake:
            joined = repair_mojibake(joined)
        simplified = converter("t2s").convert(joined)
        script = detect_script(joined, simplified)
        converted = simplified if cfg.opencc == "t2s" else to_script(joined, cfg)
        text = _settle(_line_rules(converted, cfg), cfg)
        lines = tuple(line for line in text.split("\n") if line)
        title = normalise_text(doc.title, cfg).replace("\n", " ") if doc.title else None
        return replace(doc, lines=lines, title=title, script=script) if lines else Drop("no text")

    return normalise
