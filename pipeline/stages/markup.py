"""Markup stage: Markdown left in the text, as plain lines the segmenter reads like any other.

Farms and AI writers paste Markdown: `**粗体**`, `## 标题`, and tables whose rows arrive as lines
("产品规划 | 制定产品目标、功能需求 |"). A claim with a `|` or `**` in it is no clean sentence. A run of
two or more rows becomes a list: the header row a lead-in naming the columns ("维度、推广、运营："),
each body row an item ("- 核心价值：获客，留客"), so the rows stand under the header's roles the way
list items stand under their lead-in. A separator row (`|---|`) and a column of row numbers go, each
recorded in `removed.parquet`. Emphasis marks and heading hashes are taken off every line.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import Document, Drop, Removal, Stage

CELL_SPLIT = re.compile(r"\s*[|｜]\s*")
SEPARATOR_ROW = re.compile(r"^[|｜\s:：\-—–]*-{2,}[|｜\s:：\-—–]*$")
EMPHASIS = re.compile(r"([^\s*]?)\s*\*\*\s*([^\s*]?)")  # the marks, and the text on either side
HEADING_MARK = re.compile(r"^(?:#{1,6}\s*)+")
GLUED_HEADING = re.compile(r"(?<=[。！？；])\s*#{1,6}(?=[^\s#])")  # "…方面。 ##一、广告投放策略" starts a new line
ROW_NUMBER = re.compile(r"^\d{1,3}$")
HEADER_CELL_CHARS = 16  # a header cell is a short name, without clause marks
CLAUSE_MARKS = re.compile(r"[，。；、,;]")
MIN_ROWS = 2
MARKDOWN = re.compile(r"[|｜*#]")  # a line without any of these has no Markdown
ITEM = "- "  # the segmenter's list item marker


def cells(line: str) -> list[str]:
    """The cells of a table row ("a | b |"), or [] when the line is no row (no bar between text)."""
    if "|" not in line and "｜" not in line:
        return []
    parts = CELL_SPLIT.split(line.strip())
    if parts and not parts[0]:
        parts = parts[1:]
    if parts and not parts[-1]:
        parts = parts[:-1]
    parts = [HEADING_MARK.sub("", part) for part in parts]  # a cell is no heading: "| ## 维度 |"
    return parts if len(parts) >= 2 and all(parts) else []


def _unemphasise(match: re.Match[str]) -> str:
    """The text around a `**` without it; the space too, unless Latin words stand on both sides."""
    before, after = match.group(1), match.group(2)
    latin = before.isascii() and after.isascii() and before.isalnum() and after.isalnum()
    return before + (" " if latin and match.group(0) != before + "**" + after else "") + after


def _is_header(first: list[str], rest: list[list[str]]) -> bool:
    """A first row of short names, with no more cells than the rows under it."""
    return (bool(rest) and len(first) >= max(len(r) for r in rest)
            and all(len(c) <= HEADER_CELL_CHARS and not CLAUSE_MARKS.search(c) for c in first))


def table_lines(rows: list[list[str]]) -> tuple[list[str], list[str]]:
    """The table as (lines, what went): a lead-in naming the columns when the first row is a header,
    then one item a row, "first cell：the other cells"."""
    header = rows[0] if _is_header(rows[0], rows[1:]) else None
    body = rows[1:] if header else rows
    gone: list[str] = []
    if all(len(r) > 2 and ROW_NUMBER.match(r[0]) for r in body):
        gone = [r[0] for r in body]
        body = [r[1:] for r in body]
        header = header[1:] if header else None
    out = ["、".join(header) + "："] if header else []
    out.extend(f"{ITEM}{row[0]}：" + "，".join(row[1:]) for row in body)
    return out, gone


def _unmark(line: str) -> str:
    """The line without emphasis and heading marks, stripped (most lines have none)."""
    if not MARKDOWN.search(line):
        return line.strip()
    return HEADING_MARK.sub("", EMPHASIS.sub(_unemphasise, line).strip()).strip()


def plain(lines: tuple[str, ...]) -> tuple[list[str], list[Removal]]:
    """The lines with emphasis and heading marks gone and every table written as a list."""
    split = [part for line in lines for part in (GLUED_HEADING.sub("\n", line).split("\n") if "#" in line else (line,))]
    pairs = [(part, text) for part in split if (text := _unmark(part))]
    split = [part for part, _ in pairs]
    cleaned = [text for _, text in pairs]
    out: list[str] = []
    removed: list[Removal] = []
    i = 0
    while i < len(cleaned):
        j = i
        rows: list[list[str]] = []
        separators: list[int] = []
        while j < len(cleaned) and (SEPARATOR_ROW.match(cleaned[j]) or len(cells(cleaned[j])) >= 2):
            if SEPARATOR_ROW.match(cleaned[j]):
                separators.append(j)
            else:
                rows.append(cells(cleaned[j]))
            j += 1
        if len(rows) >= MIN_ROWS:
            table, gone = table_lines(rows)
            out.extend(table)
            removed.extend(Removal("markup", "markup.table_rule", split[k]) for k in separators)
            removed.extend(Removal("markup", "markup.row_number", number) for number in gone)
            i = j
            continue
        if not SEPARATOR_ROW.match(cleaned[i]):
            out.append(cleaned[i])
        else:
            removed.append(Removal("markup", "markup.table_rule", split[i]))
        i += 1
    return out, removed


def make() -> Stage:
    def markup(doc: Document) -> Document | Drop:
        if not any(map(MARKDOWN.search, doc.lines)):
            return doc  # most pages have no Markdown at all
        lines, removed = plain(doc.lines)
        kept = tuple(r for r in doc.removed if r.stage != "markup")  # idempotent when run again
        return replace(doc, lines=tuple(lines), removed=kept + tuple(removed))

    return markup
