"""Segment stage: the clean text as atomic claims, each with the heading path it stood under.

A line is a heading (context, never a claim), a short statement such as a mind-map node
("新媒体营销偏向对外的工作": a claim, and the context of what follows), a list lead-in ("X的目标："), a
list item, or a paragraph that is split into sentences. A heading glued to its paragraph and list
items run into one line are taken apart first. Headings, questions and the page title set the section
path; claims carry it so that a duty listed under "SEM岗位职责" still knows it is about SEM.
Heading levels are learned per page in order of first appearance of each marker style, the way a
reader infers them.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, replace

from ..config import SegmentConfig
from ..model import Claim, Document, Drop, Removal, Stage
from ..text import fold

SENTENCE_END = "。！？；…;"  # a half-width semicolon ends list items as often as the full one
CLOSERS = "”’」』）》】\"'"
OPENERS = "“‘「『（《【"
MARKS = re.compile(f"[{re.escape(SENTENCE_END + CLOSERS + OPENERS)}]")
ENDING = re.compile(f"[{re.escape(SENTENCE_END)}][{re.escape(SENTENCE_END + CLOSERS)}]*")  # 。” and ？！ end together
HEADING_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(r"^第[一二三四五六七八九十百\d]+[章节篇部分][、.．:：\s]*")),
    ("cn", re.compile(r"^[一二三四五六七八九十]+[、.．：:]\s*")),
    ("decimal3", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}(?=\s*[\u4e00-\u9fff])\s*")),  # 1.1.1电商运营岗位职责
    ("decimal2", re.compile(r"^\d{1,2}\.\d{1,2}(?=\s*[\u4e00-\u9fff])\s*")),
    ("cn_paren", re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*")),
    ("bar", re.compile(r"^[▍■◆▌#]+\s*")),
    ("num", re.compile(r"^\d{1,2}[、.．](?!\d)\s*")),
    ("num_paren", re.compile(r"^[（(]\d{1,2}[）)]\s*")),
)
ITEM_MARKER = re.compile(r"^(?:[●•·◎○▪▶►\-–—*]+|>>|》|\d{1,2}[、.．)）](?!\d)|[（(]\d{1,2}[）)]|[a-zA-Z][、.)）])\s*")
NUMBER = re.compile(r"^(?:\d{1,2}[、.．)）](?!\d)|[（(]\d{1,2}[）)])\s*")  # a list number inside a line
GLOSS = re.compile(r"\s*[（(][A-Za-z][A-Za-z &'/,.\-]*[)）]$")  # an English name after a heading
BULLET = re.compile(r"^[●•·◎○▪▶►\-–—*]+\s*(?=\S)")  # an item marker that is no number
QUESTION = re.compile(r"[？?]$")
# Where extraction glued a heading or list items onto one line: "新媒体运营的前途 新媒体运营，是…",
# "包括： a、定位清晰； b、设计美观". A break goes before an item marker that follows a space, and after a
# short Chinese label at the start of the line that a space separates from a long text.
INLINE_ITEM = re.compile(r"\s+(?=(?:[a-zA-Z]|\d{1,2})[、.．](?=[\u4e00-\u9fff（(“]))")
LEADING_LABEL = re.compile(
    rf"^(?:{ITEM_MARKER.pattern[1:]})?[^\s，。！？；：,.!?;:]{{2,20}}(?=\s+[\u4e00-\u9fff“「].{{10,}})")
HAN = re.compile(r"[\u4e00-\u9fff]")
CLAUSE_MARK = re.compile("[，。！；：、,;:]")  # a line with one is not a bare mind-map node


def split_inline(line: str) -> list[tuple[int, str]]:
    """The line's parts as (offset, text): a glued heading and inline list items come apart.

    Both need a space inside the line; most lines have none (a non-printable character may be one)."""
    if " " not in line and line.isprintable():
        return [(0, line)] if line else []
    cuts = {0, len(line)} | {m.start() for m in INLINE_ITEM.finditer(line)}
    label = LEADING_LABEL.match(line)
    if label and HAN.search(label.group(0)):
        cuts.add(label.end())
    bounds = sorted(cuts)
    parts = []
    for a, b in itertools.pairwise(bounds):
        piece = line[a:b]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            parts.append((a + lead, piece.strip()))
    return parts


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences: ends at 。！？；… outside quotes and brackets.

    Only the marks are visited (a regex finds them), not every character.
    """
    spans = []
    depth = 0
    start = 0
    resume = 0  # marks before this were taken into the last sentence's end
    for match in MARKS.finditer(text):
        i = match.start()
        if i < resume:
            continue
        ch = text[i]
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS and depth:
            depth -= 1
        elif ch in SENTENCE_END and depth == 0:
            end = ENDING.match(text, i).end()
            spans.append((start, end))
            start = resume = end
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut an over-long span at commas so no claim exceeds `limit` characters."""
    if end - start <= limit:
        return [(start, end)]
    pieces = []
    cur = start
    while end - cur > limit:
        window = text[cur: cur + limit]
        cut = max(window.rfind("，"), window.rfind(","), window.rfind("、"), window.rfind(" "))
        cut = cur + cut + 1 if cut > limit // 3 else cur + limit
        pieces.append((cur, cut))
        cur = cut
    pieces.append((cur, end))
    return pieces


@dataclass(frozen=True)
class Forms:
    """The configured word lists as patterns, compiled once per stage."""

    statement: re.Pattern[str]
    not_statement: re.Pattern[str]
    question: re.Pattern[str]

    @classmethod
    def of(cls, cfg: SegmentConfig) -> Forms:
        return cls(re.compile(rf"^.{{2,}}?(?:{_alternatives(cfg.statement_verbs)}).+$"),
                   re.compile(_alternatives(cfg.not_statement)), re.compile(_alternatives(cfg.question_words)))

    def states(self, line: str) -> bool:
        """Subject, verb and more, and not a question: a statement even without closing punctuation."""
        masked = self.not_statement.sub(lambda m: "\0" * len(m.group(0)), line)
        return bool(self.statement.match(masked)) and not self.question.search(line)


def _alternatives(words: tuple[str, ...]) -> str:
    """One regex alternation, longest word first; a never-matching pattern for an empty list."""
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True))) or r"(?!)"


def heading_style(line: str, cfg: SegmentConfig, forms: Forms, repeated: bool = False) -> str | None:
    """The marker style when the line reads as a heading, "node" for a short statement, else None.

    A repeated line (a table-of-contents entry and its heading) is never a statement.
    """
    if QUESTION.search(line) and len(line) <= cfg.heading_max_chars * 2 and "。" not in line:
        return "question"
    line = GLOSS.sub("", line) or line  # "1.2 数量目标 (Quantitative Goals)": the gloss adds no length
    if len(line) > cfg.heading_max_chars or line[-1] in SENTENCE_END + "，,、":
        return None
    if bullet := BULLET.match(line):
        line = line[bullet.end():]  # "- 1.2 数量目标" is a numbered heading; "- 准备商务方案" an item however short
        if not any(pattern.match(line) for _, pattern in HEADING_MARKERS):
            return None
    for style, pattern in HEADING_MARKERS:
        if pattern.match(line):
            rest = pattern.sub("", line, count=1)
            if any(p in rest for p in "，。；"):
                return None
            numbered_item = style in ("num", "num_paren")
            return None if numbered_item and not repeated and forms.states(rest) else style
    if not CLAUSE_MARK.search(line) and len(fold(line)) <= 12:
        return "node" if not repeated and forms.states(line.strip("“”\"「」")) else "plain"
    return None


NODE_LEVEL = 1_000  # deeper than any heading: the next heading or node replaces it


def make(cfg: SegmentConfig) -> Stage:
    forms = Forms.of(cfg)

    def segment(doc: Document) -> Document | Drop:
        text = "\n".join(doc.lines)
        title_key = fold(doc.title or "")
        units: list[tuple[int, str]] = []  # (offset in text, line or inline part)
        offset = 0
        for line in doc.lines:
            units.extend((offset + start, part) for start, part in split_inline(line))
            offset += len(line) + 1
        keys = [fold(part) for _, part in units]
        counts = Counter(keys)
        levels: dict[str, int] = {}
        path: list[tuple[int, str]] = []  # (level, heading)
        lead_in: str | None = None
        claims: list[Claim] = []
        dropped: list[Removal] = []  # sentences that are no claim: questions, scraps, continuations

        def emit(line: str, start: int, end: int, section: tuple[str, ...], line_start: int, unit: int) -> None:
            for s, e in split_sentences(line[start:end]):
                for a, b in split_long(line, s + start, e + start, cfg.max_claim_chars):
                    lead = len(line[a:b]) - len(line[a:b].lstrip())
                    sentence = line[a:b].strip()
                    if (number := NUMBER.match(sentence)) and number.end() < len(sentence):
                        sentence, lead = sentence[number.end():], lead + number.end()  # "…需要;2.负责…"
                    if QUESTION.search(sentence):
                        dropped.append(Removal("segment", "segment.question", sentence))
                        continue
                    if len(fold(sentence)) < cfg.min_claim_chars:
                        dropped.append(Removal("segment", "segment.short", sentence))
                        continue
                    if sentence.startswith(cfg.fragment_starts) and len(sentence) <= cfg.fragment_max_chars:
                        dropped.append(Removal("segment", "segment.fragment", sentence))
                        continue
                    claims.append(Claim(sentence, section, char_start=line_start + a + lead,
                                        char_end=line_start + a + lead + len(sentence), paragraph=unit))

        for unit, ((line_start, line), key) in enumerate(zip(units, keys, strict=True)):
            if not key or key == title_key:
                continue
            style = heading_style(line, cfg, forms, repeated=counts[key] > 1)
            if style is not None:
                level = NODE_LEVEL if style == "node" else levels.setdefault(style, len(levels))
                path = [(lv, h) for lv, h in path if lv < level]
                if style == "node":
                    emit(line, 0, len(line), tuple(h for _, h in path), line_start, unit)
                path.append((level, line))
                lead_in = None
                continue
            item = ITEM_MARKER.match(line)
            body_start = item.end() if item else 0
            if not item:
                lead_in = None
            section = tuple(h for _, h in path) + ((lead_in,) if lead_in and item else ())
            if line.endswith(("：", ":")):
                # "X分为4种：A、B。具体如下：" — the last sentence leads into a list, those before it are claims
                last = split_sentences(line[body_start:])[-1][0] + body_start
                if len(line) - last <= cfg.heading_max_chars * 2:
                    emit(line, body_start, last, section, line_start, unit)
                    lead_in = line[last:].strip()  # keeps its colon: the section shows it leads a list
                    continue
            emit(line, body_start, len(line), section, line_start, unit)
        removed = tuple(r for r in doc.removed if r.stage != "segment")  # run again after templates
        return replace(doc, text=text, claims=tuple(claims), removed=removed + tuple(dropped))

    return segment
