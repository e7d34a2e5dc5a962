"""Dedup stage: one row per distinct claim, with the documents that support it.

Exact: claims whose canonical keys are equal (Simplified, NFKC, lower-case, letters/digits/CJK only)
are one claim, whatever their script, width, punctuation or spacing.

Near: every distinct key gets a MinHash signature (rensa) over its character n-grams — Chinese has no
spaces, so characters, not words. LSH banding proposes candidate pairs; each is verified with the
true Jaccard similarity of the two n-gram sets, and merged only when it reaches the threshold and the
two claims name the same numbers, the same negations and at least one common role (so 产品运营负责X
and 内容运营负责X, or 分为4种 and 分为5种, stay apart). Verified pairs are joined by union-find.

Pages are deduplicated with the same index on their whole text (longer n-grams, higher threshold);
being long, a candidate pair is confirmed on the share of equal signature slots, the MinHash estimate
of their Jaccard. A page that republishes another (another site, another script) gets
`duplicate_of` the earliest such page, and its claims still count as support.

Ids are stable: a key keeps the claim id it was first given; a cluster takes the id of its earliest
key, so later nights that add members or change the representative keep the id.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from rensa import RMinHash

from .config import DedupConfig
from .model import Document, content_id
from .text import canonical

SEED = 1  # fixed: signatures are kept in the state and compared across nights
MINHASH = f"rensa-rminhash-v{RMinHash.ALGORITHM_VERSION}-seed{SEED}"
NUMBERS = re.compile(r"\d+")
NEGATION = re.compile(r"[不没无非未别勿]")
_MULT = np.random.default_rng(SEED).integers(1, 2**63, size=1024, dtype=np.uint64) | np.uint64(1)


@dataclass
class KeyRecord:
    """What the state remembers of one canonical key across nights."""

    claim_id: str | None
    first_seen: str
    last_seen: str
    sig: bytes | None = None


@dataclass
class Cluster:
    """A distinct claim: its representative wording and every place it was seen."""

    claim_id: str
    text: str
    section: tuple[str, ...]
    roles: tuple[str, ...]
    claim_type: str
    doc_ids: tuple[str, ...]
    occurrences: list[tuple[str, int, int, int, str]]  # doc_id, position, char_start, char_end, wording
    first_seen: str
    last_seen: str


@dataclass
class Corpus:
    documents: list[Document]
    duplicate_of: dict[str, str]
    clusters: list[Cluster]
    keys: dict[str, KeyRecord] = field(default_factory=dict)  # with ids and signatures, for the state


def claim_id(key: str) -> str:
    """Id of a claim first seen with this key: from the key, so a rebuild gives the same ids."""
    return content_id(key.encode("utf-8"))


def shingles(key: str, k: int) -> frozenset[str]:
    """Character n-grams; a key shorter than n is its own single n-gram."""
    return frozenset(key[i:i + k] for i in range(len(key) - k + 1)) if len(key) > k else frozenset((key,))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def signatures(keys: Sequence[str], k: int, num_perm: int) -> list[bytes]:
    """MinHash signatures (uint32 × num_perm, as bytes) of the keys' n-gram sets, computed in Rust."""
    if not keys:
        return []
    tokens = [[key[i:i + k] for i in range(len(key) - k + 1)] if len(key) > k else [key] for key in keys]
    matrix = RMinHash.digest_matrix_from_token_sets(tokens, num_perm, SEED)  # a set's hash: repeats don't count
    return [np.asarray(row, dtype=np.uint32).tobytes() for row in matrix.to_rows()]


def page_signature(text: str, cfg: DedupConfig) -> bytes:
    """A page's signature, made once when it is ingested and kept in the state."""
    return signatures([canonical(text)], cfg.doc_shingle, cfg.num_perm)[0]


def buckets(sigs: np.ndarray, bands: int) -> Iterator[np.ndarray]:
    """Index groups that share a band of their signatures: the LSH candidates."""
    n, num_perm = sigs.shape
    rows = num_perm // bands
    for band in range(bands):
        block = sigs[:, band * rows:(band + 1) * rows].astype(np.uint64)
        hashed = (block * _MULT[:rows]).sum(axis=1)  # wraps modulo 2**64; a collision is only a candidate
        order = np.argsort(hashed, kind="stable")
        sorted_hashes = hashed[order]
        starts = np.flatnonzero(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]])
        ends = np.r_[starts[1:], n]
        for start, end in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
            yield order[start:end]


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def matrix_of(sigs: Sequence[bytes], num_perm: int) -> np.ndarray:
    """Signatures as one uint32 array, a row each."""
    return np.frombuffer(b"".join(sigs), dtype=np.uint32).reshape(len(sigs), num_perm)


def group(matrix: np.ndarray, similar: Callable[[int, int], bool], bands: int) -> list[int]:
    """The root index of each row after joining every LSH candidate pair that `similar` confirms."""
    n = len(matrix)
    uf = UnionFind(n)
    if n < 2:
        return list(range(n))
    checked: set[tuple[int, int]] = set()
    for bucket in buckets(matrix, bands):
        members = sorted(int(i) for i in bucket)
        head = members[0]
        for before, b in itertools.pairwise(members):
            # each member against the one before it and the bucket's first: a chain of similar items joins,
            # and a bucket of a million look-alikes (numbered template lines) costs two checks a member
            for a in {before, head}:
                if (a, b) not in checked and uf.find(a) != uf.find(b):
                    checked.add((a, b))
                    if similar(a, b):
                        uf.union(a, b)
    return [uf.find(i) for i in range(n)]


@dataclass(frozen=True, slots=True)
class _Occurrence:
    doc: int  # index into the sorted documents
    position: int
    key: str
    text: str
    section: tuple[str, ...]
    roles: tuple[str, ...]
    claim_type: str
    char_start: int
    char_end: int


def _duplicates(docs: list[Document], doc_sigs: dict[str, bytes], cfg: DedupConfig) -> dict[str, str]:
    """duplicate_of for every page that republishes an earlier one (first seen, then path order)."""
    fresh = [d for d in docs if d.doc_id not in doc_sigs]
    sigs = signatures([canonical(d.text) for d in fresh], cfg.doc_shingle, cfg.num_perm)
    doc_sigs.update(zip((d.doc_id for d in fresh), sigs, strict=True))
    matrix = matrix_of([doc_sigs[d.doc_id] for d in docs], cfg.num_perm)

    def similar(a: int, b: int) -> bool:
        """Pages are long: the share of equal signature slots estimates their Jaccard closely enough."""
        return float(np.mean(matrix[a] == matrix[b])) >= cfg.doc_threshold

    roots = group(matrix, similar, cfg.bands)
    members: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        members.setdefault(root, []).append(i)
    duplicate_of = {}
    for same in members.values():
        original = min(same, key=lambda i: (docs[i].first_seen, docs[i].source_path))
        duplicate_of.update({docs[i].doc_id: docs[original].doc_id for i in same if i != original})
    return duplicate_of


def merge(documents: list[Document], cfg: DedupConfig, keys: dict[str, KeyRecord] | None = None,
          doc_sigs: dict[str, bytes] | None = None, run_time: str = "") -> Corpus:
    """The corpus: pages with their duplicates marked, claims clustered with stable ids.

    `keys` (claim ids, first/last seen, signatures) and `doc_sigs` are what the state remembers;
    `keys` is updated in place and returned in the corpus. Without them every key is new.
    """
    keys = {} if keys is None else keys
    doc_sigs = {} if doc_sigs is None else doc_sigs
    docs = sorted(documents, key=lambda d: d.source_path)
    occurrences = [
        _Occurrence(n, pos, canonical(c.text), c.text, c.section, c.roles, c.claim_type, c.char_start, c.char_end)
        for n, d in enumerate(docs) for pos, c in enumerate(d.claims)]
    for occ in occurrences:
        record = keys.setdefault(occ.key, KeyRecord(None, docs[occ.doc].first_seen or run_time, run_time))
        record.last_seen = max(record.last_seen, docs[occ.doc].last_seen or run_time)
    distinct = sorted({occ.key for occ in occurrences})
    missing = [key for key in distinct if keys[key].sig is None]
    for key, sig in zip(missing, signatures(missing, cfg.shingle, cfg.num_perm), strict=True):
        keys[key].sig = sig
    roles_of: dict[str, set[str]] = {}
    for occ in occurrences:
        roles_of.setdefault(occ.key, set()).update(occ.roles)

    facts = [(tuple(NUMBERS.findall(key)), len(NEGATION.findall(key))) for key in distinct]

    def allowed(a: int, b: int) -> bool:
        """Same numbers, same negations, a role in common: rewordings, not different statements."""
        return facts[a] == facts[b] and not roles_of[distinct[a]].isdisjoint(roles_of[distinct[b]])

    grams: dict[int, frozenset[str]] = {}

    def similar(a: int, b: int) -> bool:
        """Claims are short: verified on the true Jaccard of their n-gram sets, after the guards."""
        if not allowed(a, b):
            return False
        for i in (a, b):
            if i not in grams:
                grams[i] = shingles(distinct[i], cfg.shingle)
        return jaccard(grams[a], grams[b]) >= cfg.threshold

    roots = group(matrix_of([keys[key].sig or b"" for key in distinct], cfg.num_perm), similar, cfg.bands)
    root_of = dict(zip(distinct, roots, strict=True))
    by_root: dict[int, list[_Occurrence]] = {}
    for occ in occurrences:
        by_root.setdefault(root_of[occ.key], []).append(occ)
    clusters = _clusters(list(by_root.values()), docs, keys)
    return Corpus(docs, _duplicates(docs, doc_sigs, cfg), clusters, keys)


def _clusters(groups: list[list[_Occurrence]], docs: list[Document], keys: dict[str, KeyRecord]) -> list[Cluster]:
    """One cluster per group, each with the oldest id any of its keys holds (older groups choose first)."""

    def age(key: str) -> tuple[str, str]:
        return keys[key].first_seen, key

    groups.sort(key=lambda g: min(age(o.key) for o in g))
    taken: set[str] = set()
    clusters = []
    for members in groups:
        member_keys = sorted({o.key for o in members}, key=age)
        held = [keys[k].claim_id for k in member_keys if keys[k].claim_id and keys[k].claim_id not in taken]
        cid = held[0] if held else claim_id(member_keys[0])
        taken.add(cid)
        for k in member_keys:
            keys[k].claim_id = cid
        wording_docs: dict[str, set[int]] = {}
        for o in members:
            wording_docs.setdefault(o.text, set()).add(o.doc)
        first_key = {o.text: age(o.key) for o in reversed(members)}
        text = min(wording_docs, key=lambda t: (-len(wording_docs[t]), first_key[t], len(t), t))
        rep = next(o for o in members if o.text == text)
        role_counts = Counter(r for o in members for r in o.roles)
        order = {r: i for i, r in reversed(list(enumerate(r for o in members for r in o.roles)))}
        types = Counter(o.claim_type for o in members)
        best = max(types.values())
        claim_type = rep.claim_type if types[rep.claim_type] == best else types.most_common(1)[0][0]
        clusters.append(Cluster(
            cid, text, rep.section, tuple(sorted(role_counts, key=lambda r: (-role_counts[r], order[r]))),
            claim_type, tuple(dict.fromkeys(docs[o.doc].doc_id for o in members)),
            [(docs[o.doc].doc_id, o.position, o.char_start, o.char_end, o.text) for o in members],
            min(keys[k].first_seen for k in member_keys), max(keys[k].last_seen for k in member_keys)))
    first_place = {c.claim_id: min((o.doc, o.position) for o in g) for c, g in zip(clusters, groups, strict=True)}
    return sorted(clusters, key=lambda c: (c.first_seen, first_place[c.claim_id]))  # as a reader meets them
