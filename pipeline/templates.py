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
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from .config import TemplatesConfig
from .model import Document, Removal
from .text import fold

if TYPE_CHECKING:
    from .state import State

STAGE = "templates"
NO_SITE = ""


def line_key(line: str) -> str:
    """Stable short key of a line's folded form (width, case and punctuation; normalise set the script)."""
    return hashlib.blake2b(fold(line).encode("utf-8"), digest_size=8).hexdigest()


def keys_of(doc: Document, cfg: TemplatesConfig) -> tuple[str | None, ...]:
    """Each line's key, None for lines too long to be template: computed once, used to learn and apply."""
    return tuple(line_key(line) if len(line) <= cfg.max_chars else None for line in doc.lines)


def page_key(doc: Document) -> str:
    """Pages with the same title are one page here: mirrors must not look like a template."""
    return line_key(doc.title) if doc.title else doc.doc_id


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


def apply(doc: Document, keys: tuple[str | None, ...], db: State, cfg: TemplatesConfig) -> Document | None:
    """The page without its site's template lines (as the state's counts have them), or None when it has none.

    A line is a site template when it is on at least `min_pages` pages that are at least `min_share`
    of its site's pages; a corpus template when it is on `corpus_min_sites` sites."""
    site = doc.site or NO_SITE
    rules = db.template_rules(site, sorted({k for k in keys if k is not None}), cfg.min_pages, cfg.min_share,
                              cfg.corpus_min_sites)
    kept: list[str] = []
    removed: list[Removal] = []
    for i, (line, key) in enumerate(zip(doc.lines, keys, strict=True)):
        rule = rules.get(key) if key is not None else None
        if rule is None:
            kept.append(line)
        else:
            removed.append(Removal(STAGE, rule, line, i))
    if not removed:
        return None
    return replace(doc, lines=tuple(kept), removed=doc.removed + tuple(removed))
