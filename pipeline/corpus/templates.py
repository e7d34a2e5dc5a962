"""Site templates: lines that recur across many pages of one site are that site's furniture.

The CCNet idea, per site and across nights. After the per-page stages, every kept line is counted
once per distinct page of its site (pages with the same title count once, so an article mirrored
at two URLs is not mistaken for a template). A line is a template line when it is short enough to
be chrome (`max_chars`) and seen on at least `min_pages` pages that are at least `min_share` of
the site's pages; a line on `corpus_min_sites` different sites is a corpus-wide template. Those
lines are removed from every page of the site (`template.site`, `template.corpus`).

The counts live in the state (`state.sqlite` in the output folder: tables `templates`,
`template_pages`, `template_sites`), never all in memory, and carry over to the next night, so one
new page from a known site is cleaned with what a hundred earlier pages taught; a page is cleaned
with the templates known when it is ingested. `--full` starts over.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import TemplatesConfig
from ..model import Document, Removal, site_of
from ..text import fold
from .state import State, stored_template_lines

STAGE = "templates"
NO_SITE = ""


DIGITS = re.compile(r"\d+")


def line_key(line: str) -> str:
    """Stable short key of a line's folded form (width, case and punctuation; normalise set the script),
    with every run of digits one digit, as CCNet does: "阅读 4644", "2021-05-18 10:50" and "1,182次浏览"
    are each one key on every page, so a counter or a date line is learned like any other chrome."""
    return _hash(DIGITS.sub("0", fold(line)))


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def keys_of(doc: Document, cfg: TemplatesConfig) -> tuple[str | None, ...]:
    """Each line's key, None for lines too long to be template: computed once, used to learn and apply."""
    return tuple(line_key(line) if len(line) <= cfg.max_chars else None for line in doc.lines)


def page_key(doc: Document) -> str:
    """Pages with the same title are one page here: mirrors must not look like a template."""
    return _hash(fold(doc.title)) if doc.title else doc.doc_id  # digits kept: "职责1" and "职责2" are two pages


class Learner:
    """Counts each site's short lines into the state: every kept line once per distinct page of its
    site. Counts gather here for a batch of pages and go to the state together (a template line,
    counted once per page, is one upsert a batch), so memory holds one batch, never the corpus."""

    def __init__(self, db: State, batch_pages: int = 500) -> None:
        self.db = db
        self.batch_pages = batch_pages
        self.counts: Counter[tuple[str, str]] = Counter()  # (site, key) -> pages in this batch
        self.examples: dict[tuple[str, str], str] = {}
        self.pages = 0  # pages counted in this batch

    def learn(self, doc: Document, keys: tuple[str | None, ...]) -> None:
        """Count a page's short lines once, unless the same page (by title) was counted before."""
        site = doc.site or NO_SITE
        if not self.db.add_template_page(site, page_key(doc)):
            return
        for key, line in dict(zip(keys, doc.lines, strict=True)).items():
            if key is not None:
                self.counts[(site, key)] += 1
                self.examples.setdefault((site, key), line)
        self.pages += 1
        if self.pages >= self.batch_pages:
            self.flush()

    def flush(self) -> None:
        self.db.count_template_lines((site, key, n, self.examples[(site, key)])
                                     for (site, key), n in self.counts.items())
        self.counts.clear()
        self.examples.clear()
        self.pages = 0


@dataclass(frozen=True)
class Rules:
    """Tonight's template lines: (site, line key) pairs that are a site's template, and line keys on
    enough sites to be a corpus template (`State.template_lines`)."""

    site: set[tuple[str, str]]
    corpus: set[str]

    @classmethod
    def of(cls, db: State, cfg: TemplatesConfig) -> Rules:
        return cls(*db.template_lines(cfg.min_pages, cfg.min_share, cfg.corpus_min_sites))

    @classmethod
    def stored(cls, path: Path, cfg: TemplatesConfig) -> Rules:
        """The template lines of the state file at `path` (an output folder's), read-only."""
        return cls(*stored_template_lines(path, cfg.min_pages, cfg.min_share, cfg.corpus_min_sites))

    def rule_for(self, site: str, key: str | None) -> str | None:
        """A site template first (never for pages without a site), then a corpus template."""
        if key is None:
            return None
        if site != NO_SITE and (site, key) in self.site:
            return "template.site"
        return "template.corpus" if key in self.corpus else None

    def __bool__(self) -> bool:
        return bool(self.site or self.corpus)

    def touches(self, url: str | None, keys: tuple[str | None, ...]) -> bool:
        """Whether a page (by its URL and line keys) has a template line at all."""
        site = site_of(url) or NO_SITE
        return any(self.rule_for(site, key) for key in keys)


def apply(doc: Document, keys: tuple[str | None, ...], rules: Rules) -> Document | None:
    """The page without its site's template lines, or None when it has none.

    A line is a site template when it is on at least `min_pages` pages that are at least `min_share`
    of its site's pages; a corpus template when it is on `corpus_min_sites` sites."""
    site = doc.site or NO_SITE
    kept: list[str] = []
    removed: list[Removal] = []
    for i, (line, key) in enumerate(zip(doc.lines, keys, strict=True)):
        rule = rules.rule_for(site, key)
        if rule is None:
            kept.append(line)
        else:
            removed.append(Removal(STAGE, rule, line, i))
    if not removed:
        return None
    return replace(doc, lines=tuple(kept), removed=doc.removed + tuple(removed))
