"""Site templates: lines that recur across many pages of one site are that site's furniture.

The CCNet idea, per site and across nights. After the per-page stages, every kept line is counted
once per distinct page of its site (pages with the same title count once, so an article mirrored
at two URLs is not mistaken for a template). A line is a template line when it is short enough to
be chrome (`max_chars`) and seen on at least `min_pages` pages that are at least `min_share` of
the site's pages; a line on `corpus_min_sites` different sites is a corpus-wide template. Those
lines are removed from every page of the site (`template.site`, `template.corpus`).

The counts are kept in the state (`state.sqlite` in the output folder) and read back the next
night, so one new page from a known site is cleaned with what a hundred earlier pages taught; a page
is cleaned with the templates known when it is ingested. `--full` starts over.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from .config import TemplatesConfig
from .model import Document, Removal
from .text import fold

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


@dataclass
class Templates:
    """Per-site line counts: how many distinct pages of the site carried each line."""

    pages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # site -> page keys
    lines: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # (site, key) -> pages
    sites: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # key -> sites
    examples: dict[str, str] = field(default_factory=dict)  # key -> one line with that key

    def learn(self, doc: Document, keys: tuple[str | None, ...]) -> None:
        """Count a page's short lines once, unless the same page (by title) was counted before."""
        site = doc.site or NO_SITE
        page = page_key(doc)
        if page in self.pages[site]:
            return
        self.pages[site].add(page)
        for key, line in dict(zip(keys, doc.lines, strict=True)).items():
            if key is not None:
                self.lines[(site, key)] += 1
                self.sites[key].add(site)
                self.examples.setdefault(key, line)

    def rule_for(self, site: str, key: str, cfg: TemplatesConfig) -> str | None:
        """The template rule a line falls under on this site, if any."""
        if site != NO_SITE:
            seen = self.lines.get((site, key), 0)
            if seen >= cfg.min_pages and seen >= cfg.min_share * len(self.pages[site]):
                return "template.site"
        sites = self.sites.get(key, ())
        if cfg.corpus_min_sites and len(sites) - (NO_SITE in sites) >= cfg.corpus_min_sites:
            return "template.corpus"
        return None

    def rows(self, cfg: TemplatesConfig) -> list[dict[str, Any]]:
        """What to keep for the next night: every site's page keys and line counts worth keeping."""
        out: list[dict[str, Any]] = []
        for site, pages in sorted(self.pages.items()):
            out.append({"site": site, "kind": "page", "key": ",".join(sorted(pages)), "pages": len(pages),
                        "text": None, "template": None})
        for (site, key), n in sorted(self.lines.items()):
            out.append({"site": site, "kind": "line", "key": key, "pages": n,
                        "text": self.examples.get(key), "template": self.rule_for(site, key, cfg)})
        return out


def from_rows(rows: list[dict[str, Any]]) -> Templates:
    """Templates learned on earlier nights, from the rows `Templates.rows` gave."""
    state = Templates()
    for row in rows:
        if row["kind"] == "page":
            state.pages[row["site"]].update(k for k in row["key"].split(",") if k)
        else:
            state.lines[(row["site"], row["key"])] = row["pages"]
            state.sites[row["key"]].add(row["site"])
            if row["text"]:
                state.examples.setdefault(row["key"], row["text"])
    return state


def apply(doc: Document, keys: tuple[str | None, ...], state: Templates, cfg: TemplatesConfig) -> Document | None:
    """The page without its site's template lines, or None when it has none."""
    site = doc.site or NO_SITE
    kept: list[str] = []
    removed: list[Removal] = []
    for i, (line, key) in enumerate(zip(doc.lines, keys, strict=True)):
        rule = state.rule_for(site, key, cfg) if key is not None else None
        if rule is None:
            kept.append(line)
        else:
            removed.append(Removal(STAGE, rule, line, i))
    if not removed:
        return None
    return replace(doc, lines=tuple(kept), removed=doc.removed + tuple(removed))
