"""The records that flow between stages.

A `Document` is immutable: each stage returns a new one (`dataclasses.replace`), so a stage can be
tested as a plain function and the runner can keep the last good state of a page when a later
stage drops it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

# What became of a page, as the manifest counts inputs; "skipped" (a file of another kind) and
# "sidecar" (a page's .url file) are files, not pages.
PAGE_OUTCOMES = ("ingested", "unchanged", "dropped", "failed")


def pages_in(inputs: dict[str, int]) -> int:
    """The pages among a night's inputs by outcome (the summary's, the report's and the trend's "pages in")."""
    return sum(inputs.get(k, 0) for k in PAGE_OUTCOMES)


class Removal(NamedTuple):
    """One piece of text that cleaning took out, and the rule that did it.

    Claims and removals are named tuples, not frozen dataclasses: a page makes dozens of each, and
    a named tuple is made 2x faster and pickled (to and from the workers) 3x faster."""

    stage: str
    rule: str
    text: str
    line: int = -1  # index into the extracted lines, -1 when not line-based
    why: str = ""  # for a learned decision (the chrome classifier), the features that decided


@dataclass(frozen=True, slots=True)
class Drop:
    """A stage's decision that a document gives nothing to the corpus (data, not an exception)."""

    reason: str
    detail: str = ""
    failure: bool = False  # True when the input itself is bad (reported as failed, exit 1)


class Claim(NamedTuple):
    """One atomic statement, with the heading path it stood under and its place in the text."""

    text: str
    section: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    claim_type: str = "other"
    char_start: int = 0
    char_end: int = 0
    paragraph: int = -1  # index of the paragraph (line, or inline list item) it came from; -1 unknown
    basis: str = ""  # where its roles came from: subject, paragraph, heading, page, mention (roles stage)


@dataclass(frozen=True, slots=True)
class Document:
    """One page (a file, or one record of a crawler file) on its way through the stages."""

    source_path: str  # relative to RAW_DIR, POSIX; records add "#n"
    format: str  # "html" or "text"
    input_path: str = ""  # the input file it came from (a record's file; "" in hand-made documents: source_path)
    raw: bytes = b""
    source_url: str | None = None
    declared_encoding: str | None = None  # from the transport (WARC/HTTP header, jsonl field, wrapper)
    encoding: str | None = None
    content: str = ""  # decoded input (markup for html); emptied once the page is processed
    chars_raw: int = 0  # length of the decoded input
    title: str | None = None
    published: str | None = None
    lines: tuple[str, ...] = ()  # main text, one paragraph / line each
    removed: tuple[Removal, ...] = ()
    script: str | None = None
    text: str = ""
    claims: tuple[Claim, ...] = ()
    doc_id: str = ""
    first_seen: str = ""  # run time of the first and the latest night that ingested this page
    last_seen: str = ""

    @property
    def site(self) -> str | None:
        return site_of(self.source_url)


def site_of(url: str | None) -> str | None:
    """Host of a source URL, the unit that boilerplate templates are learned per."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # "http://[oops/": no host can be read from it
        return None
    return host.removeprefix("www.") if host else None


Stage = Callable[[Document], "Document | Drop"]


def content_id(data: bytes) -> str:
    """Deterministic id from content: the same bytes give the same id on every machine and night."""
    return hashlib.sha256(data).hexdigest()[:16]


def page_id(data: bytes, where: str) -> str:
    """A page's id, from its bytes and where it was found (its URL, else its path): stable on every
    machine and night, and the same bytes at two places are two pages (the later a `duplicate_of`)."""
    return content_id(where.encode("utf-8") + b"\0" + data)
