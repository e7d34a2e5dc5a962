"""Extract stage: the page's main text as lines, with its title, date and URL.

HTML goes through trafilatura; when it finds nothing (tiny or odd pages) BeautifulSoup's visible
text is used instead, so a page is never lost to the extractor. Text dumps pass through as lines.
Some crawls wrap each page as `<text id="URL" title="..." encoding="...">…</text>`; the wrapper's
attributes are metadata, not content.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import trafilatura
from bs4 import BeautifulSoup

from .config import ExtractConfig
from .model import Document, Drop, Stage

log = logging.getLogger(__name__)

WRAPPER = re.compile(r"\A\s*<text\b([^>]*)>(.*?)(?:</text>\s*)?\Z", re.S | re.I)
ATTR = re.compile(r"""(\w+)\s*=\s*"([^"]*)\"""")
INVISIBLE = ("script", "style", "noscript", "template", "head", "iframe", "svg")
# Scripts and styles carry no text, and one placed before <html> makes lxml parse only a fragment.
SCRIPTS = re.compile(r"<(script|style|noscript)\b[^>]*(?<!/)>.*?</\1\s*>", re.S | re.I)


def unwrap(markup: str) -> tuple[str, dict[str, str]]:
    """Strip a crawler's `<text ...>` wrapper, returning the inner markup and its attributes."""
    match = WRAPPER.match(markup)
    if not match:
        return markup, {}
    return match.group(2), dict(ATTR.findall(match.group(1)))


def to_lines(text: str) -> tuple[str, ...]:
    """Non-blank lines, stripped: the unit every later stage works on."""
    return tuple(s for line in text.split("\n") if (s := line.strip()))


def soup_text(markup: str) -> tuple[str | None, tuple[str, ...]]:
    """Title and visible text lines from BeautifulSoup: the fallback when trafilatura gives nothing."""
    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(INVISIBLE):
        tag.decompose()
    return title or None, to_lines(soup.get_text("\n"))


def make(cfg: ExtractConfig) -> Stage:
    def extract(doc: Document) -> Document | Drop:
        if doc.format == "text":
            lines = to_lines(doc.content)
            return replace(doc, lines=lines) if lines else Drop("no text")
        markup, attrs = unwrap(doc.content)
        markup = SCRIPTS.sub("", markup)
        url = doc.source_url or attrs.get("id") or None
        result = trafilatura.bare_extraction(
            markup, url=url, with_metadata=True, include_comments=False, include_tables=cfg.include_tables,
            favor_precision=cfg.favor_precision, favor_recall=cfg.favor_recall and not cfg.favor_precision,
            deduplicate=False,
        )
        text = (result.text or "") if result is not None else ""
        title = (result.title if result is not None else None) or attrs.get("title") or None
        published = result.date if result is not None else None
        lines = to_lines(text)
        if sum(map(len, lines)) < cfg.min_text_chars:
            soup_title, lines = soup_text(markup)
            title = title or soup_title
            log.debug("%s: trafilatura found no main text, using all visible text", doc.source_path)
        if not lines:
            return Drop("no text", "page has no visible text")
        return replace(doc, lines=lines, title=title, published=published, source_url=url)

    return extract
