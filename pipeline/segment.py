"""Segment stage: the clean text as atomic claims, each with the heading path it stood under.

A line is a heading (context, never a claim), a list lead-in ("X的目标："), a list item, or a
paragraph that is split into sentences. Headings, questions and the page title set the section
path; claims carry it so that a duty listed under "SEM岗位职责" still knows it is about SEM.
Heading levels are learned per page in order of first appearance of each marker style, the way a
reader infers them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .config import SegmentConfig
from .model import Claim, Document, Drop, Stage
from .text import canonical

SENTENCE_END = "。！？；…"
CLOSERS = "”’」』）》】\"'"
OPENERS = "“‘「『（《【"
HEADING_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(r"^第[一二三四五六七八九十百\d]+[章节篇部分][、.．:：\s]*")),
    ("cn", re.compile(r"^[一二三四五六七八九十]+[、.．]\s*")),
    ("cn_paren", re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*")),
    ("bar", re.compile(r"^[▍■◆▌#]+\s*")),
    ("num", re.compile(r"^\d{1,2}[、.．](?!\d)\s*")),
    ("num_paren", re.compile(r"^[（(]\d{1,2}[）)]\s*")),
)
ITEM_MARKER = re.compile(r"^(?:[●•·◎○▪▶►\-–—*]+|>>|》|\d{1,2}[、.．)）](?!\d)|[（(]\d{1,2}[）)]|[a-zA-Z][、.)）])\s*")
QUESTION = re.compile(r"[？?]$")
SPLIT_SOFT = re.compile(r"(?<=[，,、])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences: ends at 。！？；… outside quotes and brackets."""
    spans = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS and depth:
            depth -= 1
        elif ch in SENTENCE_END and depth == 0:
            j = i + 1
            while j < n and (text[j] in SENTENCE_END or text[j] in CLOSERS):
                j += 1
            spans.append((start, j))
            start = j
            i = j
            continue
        i += 1
    if start < n:
        spans.append((start, n))
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


def heading_style(line: str, cfg: SegmentConfig) -> str | None:
    """The marker style when the line reads as a heading, else None."""
    if QUESTION.search(line) and len(line) <= cfg.heading_max_chars * 2 and "。" not in line:
        return "question"
    if len(line) > cfg.heading_max_chars or line[-1] in SENTENCE_END + "，,、":
        return None
    for style, pattern in HEADING_MARKERS:
        if pattern.match(line):
            rest = pattern.sub("", line, count=1)
            return style if not any(p in rest for p in "，。；") else None
    if not any(p in line for p in "，。！；：、,;:") and len(canonical(line)) <= 12:
        return "plain"
    return None


def make(cfg: SegmentConfig) -> Stage:
    def segment(doc: Document) -> Document | Drop:
        text = "\n".join(doc.lines)
        title_key = canonical(doc.title or "")
        levels: dict[str, int] = {}
        path: list[tuple[int, str]] = []  # (level, heading)
        lead_in: str | None = None
        claims: list[Claim] = []
        offset = 0
        for line in doc.lines:
            line_start = offset
            offset += len(line) + 1
            key = canonical(line)
            if not key or key == title_key:
                continue
            style = heading_style(line, cfg)
            if style is not None:
                level = levels.setdefault(style, len(levels))
                path = [(lv, h) for lv, h in path if lv < level] + [(level, line)]
                lead_in = None
                continue
            item = ITEM_MARKER.match(line)
            body_start = item.end() if item else 0
            if line.endswith(("：", ":")) and len(line) <= cfg.heading_max_chars * 2:
                lead_in = line[body_start:].rstrip("：:")
                continue
            if not item:
                lead_in = None
            section = tuple(h for _, h in path) + ((lead_in,) if lead_in and item else ())
            for s, e in split_sentences(line[body_start:]):
                s, e = s + body_start, e + body_start
                for a, b in split_long(line, s, e, cfg.max_claim_chars):
                    sentence = line[a:b].strip()
                    if QUESTION.search(sentence) or len(canonical(sentence)) < cfg.min_claim_chars:
                        continue
                    lead = len(line[a:b]) - len(line[a:b].lstrip())
                    claims.append(Claim(sentence, section, char_start=line_start + a + lead,
                                        char_end=line_start + a + lead + len(sentence)))
        return replace(doc, text=text, claims=tuple(claims))

    return segment
