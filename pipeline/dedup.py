"""Dedup stage: one row per distinct claim, with the documents that support it.

Exact deduplication on the canonical key (Simplified, NFKC, lower-case, letters/digits/CJK only):
wordings that differ only in script, width, punctuation or spacing are one claim. A page whose
whole clean text equals an earlier page's is marked `duplicate_of` that page; its claims still
count as support. Documents are taken in source-path order, so the result does not depend on the
order workers finish in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .model import Document, content_id
from .text import canonical


@dataclass
class Cluster:
    """A distinct claim: its representative (first seen) wording and every place it was seen."""

    claim_id: str
    text: str
    section: tuple[str, ...]
    roles: dict[str, None] = field(default_factory=dict)  # ordered set
    types: Counter[str] = field(default_factory=Counter)
    doc_ids: dict[str, None] = field(default_factory=dict)
    occurrences: list[tuple[str, int, int, int, str]] = field(default_factory=list)

    @property
    def claim_type(self) -> str:
        """The type most members have; ties go to the representative's (first counted)."""
        return self.types.most_common(1)[0][0]


@dataclass
class Corpus:
    documents: list[Document]
    duplicate_of: dict[str, str]
    clusters: list[Cluster]


def claim_id(key: str) -> str:
    """Stable id of a claim: from its canonical key, so every night gives the same id."""
    return content_id(key.encode("utf-8"))


def merge(documents: list[Document]) -> Corpus:
    docs = sorted(documents, key=lambda d: d.source_path)
    first_by_text: dict[str, str] = {}
    duplicate_of: dict[str, str] = {}
    clusters: dict[str, Cluster] = {}
    for doc in docs:
        text_key = canonical(doc.text)
        original = first_by_text.setdefault(text_key, doc.doc_id)
        if original != doc.doc_id:
            duplicate_of[doc.doc_id] = original
        for position, claim in enumerate(doc.claims):
            key = canonical(claim.text)
            cluster = clusters.get(key)
            if cluster is None:
                cluster = clusters[key] = Cluster(claim_id(key), claim.text, claim.section)
            cluster.roles.update(dict.fromkeys(claim.roles))
            cluster.types[claim.claim_type] += 1
            cluster.doc_ids.setdefault(doc.doc_id, None)
            cluster.occurrences.append((doc.doc_id, position, claim.char_start, claim.char_end, claim.text))
    return Corpus(docs, duplicate_of, list(clusters.values()))
