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
import json
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rensa import RMinHash

from ..config import DedupConfig
from ..model import content_id
from ..text import canonical, code_points

if TYPE_CHECKING:
    from .state import State

SEED = 1  # fixed: signatures are kept in the state and compared across nights
# The signature scheme, kept in the state: a change (here, or of rensa's algorithm) recomputes the signatures.
MINHASH = f"rensa-rminhash-v{RMinHash.ALGORITHM_VERSION}-seed{SEED}-ngram-poly64"  # n-grams hashed by `ngram_hashes`
NUMBERS = re.compile(r"\d+")
NEGATION = re.compile(r"[不没无非未别勿]")
_MULT = np.random.default_rng(SEED).integers(1, 2**63, size=1024, dtype=np.uint64) | np.uint64(1)


@dataclass(frozen=True, slots=True)
class Cluster:
    """A distinct claim: its representative wording and every place it was seen."""

    claim_id: str
    text: str
    section: tuple[str, ...]
    roles: tuple[str, ...]
    claim_type: str
    doc_ids: tuple[str, ...]
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class Merged:
    """What the merge decided, kept in the state; the clusters and occurrences are streamed from it."""

    claims: int
    occurrences: int
    documents: int
    duplicate_documents: int
    role_claims: dict[str, int]  # role -> distinct claims tagged with it
    clusters: Callable[[], Iterator[Cluster]]  # in reading order
    occurrence_rows: Callable[[], Iterator[tuple[str, str, int, int, int, str]]]  # claim id, doc id, position, ...


def claim_id(key: str) -> str:
    """Id of a claim first seen with this key: from the key, so a rebuild gives the same ids."""
    return content_id(key.encode("utf-8"))


def shingles(key: str, k: int) -> frozenset[str]:
    """Character n-grams; a key shorter than n is its own single n-gram."""
    return frozenset(key[i:i + k] for i in range(len(key) - k + 1)) if len(key) > k else frozenset((key,))


def jaccard(a: frozenset[object], b: frozenset[object]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def signatures(keys: Sequence[str], k: int, num_perm: int) -> list[bytes]:
    """MinHash signatures (uint32 × num_perm, as bytes) of the keys' n-gram sets, computed in Rust from
    n-gram hashes worked out in numpy (`ngram_hashes`): a page makes thousands of n-grams, and a
    Python string for each made its signature 10x slower."""
    if not keys:
        return []
    hashes, offsets = ngram_hashes(keys, k)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, num_perm, SEED)  # repeats don't count
    return [row.tobytes() for row in np.asarray(matrix.to_rows(), dtype=np.uint32)]


_POLY = np.uint64(0x100000001B3)  # FNV's 64-bit prime as the base: odd, so multiplying by it loses no bits


def ngram_hashes(keys: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every key's character n-grams, all keys in one flat array, and the offsets where
    each key's n-grams start (one more than keys). A key shorter than n is its own single n-gram,
    as in `shingles`. An n-gram's hash is a polynomial of its code points and its length, mixed
    (splitmix64's finaliser) so that rensa's permutations see well-spread values."""
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    counts = np.maximum(lengths - k + 1, 1)
    offsets = np.r_[np.int64(0), np.cumsum(counts)]
    key_of = np.repeat(np.arange(len(keys)), counts)
    starts = np.r_[np.int64(0), np.cumsum(lengths)[:-1]][key_of] + np.arange(offsets[-1]) - offsets[:-1][key_of]
    sizes = np.minimum(lengths, k)[key_of].astype(np.uint64)
    points = np.r_[code_points("".join(keys)).astype(np.uint64), np.zeros(k, dtype=np.uint64)]
    hashes = np.zeros(len(starts), dtype=np.uint64)
    for j in range(k):
        hashes = hashes * _POLY + np.where(sizes > j, points[starts + j], np.uint64(0))
    hashes += sizes
    hashes ^= hashes >> np.uint64(30)
    hashes *= np.uint64(0xBF58476D1CE4E5B9)
    hashes ^= hashes >> np.uint64(27)
    hashes *= np.uint64(0x94D049BB133111EB)
    hashes ^= hashes >> np.uint64(31)
    return hashes, offsets.astype(np.uint64)


PAGE_PIECE = 1 << 20  # a page's n-grams are hashed this many at a time (about 70 MB of arrays)


def page_signature(text: str, cfg: DedupConfig) -> bytes:
    """A page's signature, made once when it is ingested and kept in the state. A long page (a book
    in a text dump) is signed a piece at a time: the MinHash of a union is the slot-wise minimum of
    its parts', so memory stays bounded and the signature is the same."""
    key, k = canonical(text), cfg.doc_shingle
    pieces = (key[start:start + PAGE_PIECE + k - 1] for start in range(0, max(1, len(key) - k + 1), PAGE_PIECE))
    signed = [np.frombuffer(signatures([piece], k, cfg.num_perm)[0], dtype=np.uint32) for piece in pieces]
    return np.minimum.reduce(signed).tobytes()


def candidates(band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LSH candidate pairs (a, b), a < b, of one band (an n × rows array): rows whose band is equal.

    Each row is paired with the row before it in its bucket and with the bucket's first row, so a
    chain of similar rows joins and a bucket of a million look-alikes (numbered template lines) costs
    two checks a row. Worked out in numpy, a band at a time."""
    rows = band.shape[1]
    hashed = (band.astype(np.uint64) * _MULT[:rows]).sum(axis=1)  # wraps modulo 2**64; a collision is only a candidate
    order = np.argsort(hashed, kind="stable")  # stable: each bucket's rows in index order
    sorted_hashes = hashed[order]
    same = np.r_[False, sorted_hashes[1:] == sorted_hashes[:-1]]  # continues the bucket before it
    first = np.flatnonzero(~same)[np.cumsum(~same) - 1]  # where each position's bucket starts
    pos = np.flatnonzero(same)
    before, head, row = order[pos - 1], order[first[pos]], order[pos]
    apart = head != before
    return np.r_[before, head[apart]], np.r_[row, row[apart]]


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = array("q", range(n))  # compact (8 bytes a row) and quick to index one at a time

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def matrix_of(sigs: Sequence[bytes], width: int) -> np.ndarray:
    """Signatures (or bands of them) as one uint32 array, a row each."""
    return np.frombuffer(b"".join(sigs), dtype=np.uint32).reshape(len(sigs), width)


def group(n: int, bands: Iterable[np.ndarray], similar: Callable[[int, int], bool],
          maybe: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> list[int]:
    """The root index (its smallest) of each of n rows after joining every LSH candidate pair that
    `similar` confirms: the connected components, whatever order the pairs are checked in.

    `bands` gives one n × rows block of the signatures at a time, so the whole signatures never need
    to be in memory together. `maybe`, when given, rules pairs out in numpy first (for many pairs at
    once; it must hold wherever `similar` does), so Python looks only at the pairs left.
    """
    uf = UnionFind(n)
    if n < 2:
        return list(range(n))
    parent = np.frombuffer(uf.parent, dtype=np.int64)  # the union-find's own memory, seen by numpy
    for band in bands:
        first, second = candidates(band)
        _flatten(parent)
        apart = parent[first] != parent[second]  # a pair already joined by an earlier band needs no look
        first, second = first[apart], second[apart]
        if maybe is not None:
            kept = maybe(first, second)
            first, second = first[kept], second[kept]
        for a, b in zip(first.tolist(), second.tolist(), strict=True):
            if uf.find(a) != uf.find(b) and similar(a, b):
                uf.union(a, b)
    return [uf.find(i) for i in range(n)]


def _flatten(parent: np.ndarray) -> None:
    """Point every row of a union-find straight at its root, in place: `find`'s path compression,
    for all rows at once. The components stay the same; each row's parent is then its root."""
    while not np.array_equal(grand := parent[parent], parent):
        parent[:] = grand


BAND_BYTES = 16 * 2**20  # the index reads more than MIN_BANDS bands at a time only while they fit in this
MIN_BANDS = 8  # bands read at a time at least (a scan of the table is 0.3 s at a million keys)
READ_ROWS = 10_000


def _bands(db: State, what: str, n: int, cfg: DedupConfig) -> Iterator[np.ndarray]:
    """Each LSH band of the n signatures of `what` as an n × rows array, read MIN_BANDS bands at a
    time (a quarter of each signature), or more while they fit in BAND_BYTES: into one array, a few
    thousand rows at a time."""
    rows = cfg.num_perm // cfg.bands
    per_scan = min(cfg.bands, max(MIN_BANDS, BAND_BYTES // max(1, n * rows * 4)))
    for scan in db.bands(what, cfg.bands, cfg.num_perm, per_scan):
        scanned: np.ndarray | None = None
        done = 0
        while chunk := list(itertools.islice(scan, READ_ROWS)):
            block = matrix_of(chunk, len(chunk[0]) // 4)
            if scanned is None:
                scanned = np.empty((n, block.shape[1]), dtype=np.uint32)
            scanned[done:done + len(chunk)] = block
            done += len(chunk)
        if scanned is None:  # no rows
            continue
        if done != n:  # the array is filled from the table: a short read would leave garbage rows
            raise RuntimeError(f"signature index: read {done} of {n} rows")
        for start in range(0, scanned.shape[1], rows):
            yield scanned[:, start:start + rows]


def mark_duplicates(db: State, cfg: DedupConfig) -> int:
    """Set duplicate_of on every page that republishes an earlier one (first seen, then path order);
    returns how many. Pages are long: a candidate pair is confirmed on the share of equal signature
    slots, the MinHash estimate of their Jaccard."""

    def similar(a: int, b: int) -> bool:
        one, other = (np.frombuffer(db.page_sig(i), dtype=np.uint32) for i in (a, b))
        return float(np.mean(one == other)) >= cfg.doc_threshold

    n = db.count("merge_pages")
    roots = group(n, _bands(db, "pages", n, cfg), similar)
    members: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        if root != i:  # a root is its group's first index
            members.setdefault(root, [root]).append(i)
    marked = 0

    def duplicate_of() -> Iterator[tuple[int, int]]:  # streamed into the state: one group at a time in memory
        nonlocal marked
        for same in members.values():
            first_seen = db.pages_first_seen(same)
            original = min(same, key=lambda i: (first_seen[i], i))  # first seen, then path order
            for i in same:
                if i != original:
                    marked += 1
                    yield i, original

    db.set_duplicates(duplicate_of())
    return marked


def merge(db: State, cfg: DedupConfig) -> Merged:
    """Cluster every claim of the corpus in the state, with stable ids, and mark republished pages.

    Python holds one compact row per distinct key (its facts and roles); signatures are read one LSH
    band at a time and occurrences are streamed from SQLite in cluster order, so memory follows the
    number of distinct claims, not the number of pages or occurrences.
    """
    db.update_keys()
    missing = db.unsigned_keys()  # new tonight from the template pass, or after a change of settings
    for start in range(0, len(missing), 10_000):
        batch = missing[start:start + 10_000]
        db.set_key_sigs(zip(batch, signatures(batch, cfg.shingle, cfg.num_perm), strict=True))
    keys: list[str] = []
    held: list[str | None] = []
    ages: list[tuple[str, str]] = []
    last: list[str] = []
    places: list[int] = []
    roles_of: list[frozenset[str]] = []
    shared: dict[str, frozenset[str]] = {}
    for key, cid, first_seen, last_seen, place, role_lists in db.key_facts():
        keys.append(key)
        held.append(cid)
        ages.append((first_seen, key))
        last.append(last_seen)
        places.append(place)
        if role_lists not in shared:
            shared[role_lists] = frozenset(r for roles in json.loads(role_lists) for r in json.loads(roles))
        roles_of.append(shared[role_lists])
    facts = [(tuple(NUMBERS.findall(key)), len(NEGATION.findall(key))) for key in keys]
    fact_ids: dict[tuple[tuple[str, ...], int], int] = {}
    fact_of = np.array([fact_ids.setdefault(f, len(fact_ids)) for f in facts], dtype=np.int64)
    bits: dict[str, int] = {}  # a bit per role (beyond 64 roles bits are shared: the filter stays sound)
    masks: dict[frozenset[str], int] = {}
    for roles in shared.values():
        masks[roles] = sum({1 << (bits.setdefault(r, len(bits)) % 64) for r in roles})
    roles_mask = np.array([masks[roles] for roles in roles_of], dtype=np.uint64)

    def similar(a: int, b: int) -> bool:
        """Same numbers, same negations, a role in common, then the true Jaccard of the n-gram sets:
        rewordings, not different statements."""
        if facts[a] != facts[b] or roles_of[a].isdisjoint(roles_of[b]):
            return False
        return jaccard(shingles(keys[a], cfg.shingle), shingles(keys[b], cfg.shingle)) >= cfg.threshold

    def maybe(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """`similar`'s first two tests on many pairs at once: same facts, a role in common."""
        return (fact_of[a] == fact_of[b]) & ((roles_mask[a] & roles_mask[b]) != 0)

    roots = group(len(keys), _bands(db, "keys", len(keys), cfg), similar, maybe)
    groups: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        groups.setdefault(root, []).append(i)
    ordered = sorted(groups.values(), key=lambda g: min(ages[i] for i in g))  # older groups choose ids first
    taken: set[str] = set()
    ids: list[str] = []
    for members in ordered:
        members.sort(key=lambda i: ages[i])
        kept = [held[i] for i in members if held[i] and held[i] not in taken]
        cid = kept[0] if kept else claim_id(keys[members[0]])
        taken.add(cid)
        ids.append(cid)
    # reading order: first seen, then where a reader first meets the claim
    rank = sorted(range(len(ordered)), key=lambda g: (ages[ordered[g][0]][0], min(places[i] for i in ordered[g])))
    db.set_clusters((i, ids[g], n) for n, g in enumerate(rank) for i in ordered[g])
    role_claims = Counter(r for members in ordered for r in frozenset().union(*(roles_of[i] for i in members)))
    spans = [(ages[ordered[g][0]][0], max(last[i] for i in ordered[g])) for g in rank]

    def clusters() -> Iterator[Cluster]:
        for n, rows in itertools.groupby(db.occurrences(), key=lambda r: r[0]):
            yield _cluster(list(rows), ages, spans[n])

    def occurrence_rows() -> Iterator[tuple[str, str, int, int, int, str]]:
        for _, cid, doc_id, position, start, end, text in db.occurrences(full=False):
            yield cid, doc_id, position, start, end, text

    return Merged(len(spans), db.count("claims"), db.count("documents"), mark_duplicates(db, cfg),
                  dict(role_claims), clusters, occurrence_rows)


def _cluster(rows: list[tuple[Any, ...]], ages: list[tuple[str, str]], span: tuple[str, str]) -> Cluster:
    """One claim from its occurrences (in page order): the wording most pages use represents it, then
    the wording of the oldest key, the shortest; its roles by how often they were tagged."""
    wording_docs: dict[str, set[str]] = {}
    wording_age: dict[str, tuple[str, str]] = {}
    for row in rows:
        wording_docs.setdefault(row[6], set()).add(row[2])
        wording_age.setdefault(row[6], ages[row[10]])
    text = min(wording_docs, key=lambda t: (-len(wording_docs[t]), wording_age[t], len(t), t))
    rep = next(row for row in rows if row[6] == text)
    tagged = [r for row in rows for r in json.loads(row[8])]
    role_counts = Counter(tagged)
    order = {r: i for i, r in reversed(list(enumerate(tagged)))}
    types = Counter(row[9] for row in rows)
    claim_type = rep[9] if types[rep[9]] == max(types.values()) else types.most_common(1)[0][0]
    return Cluster(rep[1], text, tuple(json.loads(rep[7])),
                   tuple(sorted(role_counts, key=lambda r: (-role_counts[r], order[r]))), claim_type,
                   tuple(dict.fromkeys(row[2] for row in rows)), *span)
