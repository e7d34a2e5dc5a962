"""The nightly state: what earlier runs ingested, kept in SQLite inside the output folder.

`state.sqlite` sits beside the corpus files and is swapped in with them, so the state and the
corpus always belong to the same run: a run killed at any point leaves both as the previous run
wrote them, and the next run redoes the work. It holds every input seen (path and content digest)
with its outcomes, every ingested page with its claims, each canonical key's claim id, first/last
seen and MinHash signature (the near-duplicate index), each page's signature, the learned site
templates, and the settings the state was built with.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..model import Document, Removal

FILE = "state.sqlite"
SCHEMA_VERSION = "4"  # 4: page ids from bytes and place, line keys with digits folded
# What brings an older state up to this one, run in the first night's transaction (the commit then
# writes SCHEMA_VERSION). Schema 3 counted template lines under keys that no longer exist: the
# counts start over (every page is processed again that night, as the pipeline version changed, so
# they are learned again at once); the claims and their first_seen are kept.
UPGRADES: dict[str, tuple[str, ...]] = {
    "3": ("DELETE FROM templates", "DELETE FROM template_pages", "DELETE FROM template_sites"),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inputs (
    path TEXT PRIMARY KEY, digest TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    input_path TEXT NOT NULL, path TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
    stage TEXT NOT NULL, doc_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_input ON events (input_path);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, input_path TEXT NOT NULL, source_path TEXT NOT NULL, format TEXT NOT NULL,
    title TEXT, text TEXT NOT NULL, source_url TEXT, published TEXT, encoding TEXT, script TEXT,
    chars_raw INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, removed TEXT NOT NULL,
    sig BLOB, duplicate_of TEXT);
CREATE INDEX IF NOT EXISTS documents_by_input ON documents (input_path);
CREATE INDEX IF NOT EXISTS documents_by_path ON documents (source_path);
CREATE TABLE IF NOT EXISTS claims (
    doc_id TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL, section TEXT NOT NULL,
    roles TEXT NOT NULL, claim_type TEXT NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    paragraph INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (doc_id, position));
CREATE INDEX IF NOT EXISTS claims_by_key ON claims (key);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY, claim_id TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, sig BLOB);
CREATE TABLE IF NOT EXISTS template_sites (site TEXT PRIMARY KEY, pages INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS template_pages (site TEXT NOT NULL, page TEXT NOT NULL, PRIMARY KEY (site, page))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS templates (
    site TEXT NOT NULL, key TEXT NOT NULL, pages INTEGER NOT NULL, text TEXT, template TEXT,
    PRIMARY KEY (site, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS templates_by_key ON templates (key);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, lines TEXT NOT NULL, keys TEXT NOT NULL);
"""
NIGHT = """
DROP TABLE IF EXISTS temp.night_inputs;
DROP TABLE IF EXISTS temp.night_events;
DROP TABLE IF EXISTS temp.night_reset;
DROP TABLE IF EXISTS temp.night_pages;
DROP TABLE IF EXISTS temp.night_owners;
CREATE TEMP TABLE night_inputs (path TEXT PRIMARY KEY, digest TEXT NOT NULL);
CREATE TEMP TABLE night_events (
    input_path TEXT NOT NULL, path TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
    stage TEXT NOT NULL, doc_id TEXT NOT NULL);
CREATE INDEX temp.night_events_by_doc ON night_events (doc_id);
CREATE TABLE temp.night_reset (path TEXT PRIMARY KEY, first_seen TEXT);
CREATE TABLE temp.night_pages (doc_id TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
CREATE TABLE temp.night_owners (doc_id TEXT PRIMARY KEY, input_path TEXT NOT NULL)
"""


class StateError(Exception):
    """The state cannot be used as it is (a user fixes it with --full; exit code 2)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One remembered outcome of an input (a file, or a record of a crawler file)."""

    input_path: str
    path: str
    outcome: str
    reason: str = ""
    stage: str = ""
    doc_id: str = ""


class State:
    """An open state database (a working copy in the staging folder; see the runner)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.execute("PRAGMA synchronous=FULL")
        # 16 MB: the merge reads the claims in table order and leaves grouping and sorting to SQLite's sorter,
        # which holds up to the cache size before it spills to disk (a 1M-claim merge: 59.9 s, 57.9 s with 64 MB)
        self.db.execute("PRAGMA cache_size = -16384")
        self.db.execute(SCHEMA.split(";", 1)[0])  # meta first: an older state is refused before it is touched
        version = self.meta().get("schema_version")
        if version not in (None, SCHEMA_VERSION, *UPGRADES):
            self.db.close()
            raise StateError(f"{path}: state schema {version}, this pipeline reads {SCHEMA_VERSION}; run with --full")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.open = True
        for statement in UPGRADES.get(version or SCHEMA_VERSION, ()):  # in the night's transaction: undone with it
            self.db.execute(statement)

    def commit(self) -> None:
        """Make the night's work durable and close (the copy is swapped in with the corpus after)."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        self.db.execute("COMMIT")
        self.db.close()
        self.open = False

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.open:  # not committed: an error, a dry run; the staging copy is discarded anyway
            self.open = False
            try:
                if self.db.in_transaction:  # SQLite may have rolled back itself (an I/O error, an interrupt)
                    self.db.execute("ROLLBACK")
            finally:
                self.db.close()

    # --- settings the state was built with -------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, value FROM meta"))

    def set_meta(self, values: dict[str, str]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    def forget_signatures(self) -> None:
        """Signatures made with other MinHash settings cannot be compared with new ones."""
        self.db.execute("UPDATE keys SET sig = NULL")
        self.db.execute("UPDATE documents SET sig = NULL")

    # --- inputs ------------------------------------------------------------------------------------

    def digest_of(self, path: str) -> str | None:
        row = self.db.execute("SELECT digest FROM inputs WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    # --- tonight: what happened to each input, kept here rather than in Python, so the run's memory
    # does not grow with the number of inputs (temp tables: never part of the saved state) -----------

    def start_night(self) -> None:
        """Begin the night's records, with a snapshot of which input each page of the corpus came from."""
        for statement in NIGHT.split(";"):  # not executescript: that would commit the night's transaction
            self.db.execute(statement)
        self.db.execute("INSERT INTO night_owners SELECT doc_id, input_path FROM documents")

    def note_input(self, path: str, digest: str) -> None:
        """An input read tonight (new or changed), with its content digest."""
        self.db.execute("INSERT OR REPLACE INTO night_inputs VALUES (?, ?)", (path, digest))

    def note_event(self, e: Event) -> None:
        self.db.execute("INSERT INTO night_events VALUES (?, ?, ?, ?, ?, ?)",
                        (e.input_path, e.path, e.outcome, e.reason, e.stage, e.doc_id))

    def note_unchanged(self, input_path: str) -> None:
        """An input skipped as unchanged: what it gave before, replayed as tonight's outcomes."""
        self.db.execute(
            "INSERT INTO night_events SELECT input_path, path, CASE outcome WHEN 'ingested' THEN 'unchanged' "
            "ELSE outcome END, reason, stage, doc_id FROM events WHERE input_path = ? ORDER BY rowid", (input_path,))

    def owner_before(self, doc_id: str) -> str | None:
        """The input a page with this id came from in the corpus as it was before tonight."""
        row = self.db.execute("SELECT input_path FROM night_owners WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def ingested_tonight(self, doc_id: str) -> str | None:
        """The path of the page with this id ingested earlier tonight, if one was."""
        row = self.db.execute("SELECT path FROM night_events WHERE doc_id = ? AND outcome = 'ingested' LIMIT 1",
                              (doc_id,)).fetchone()
        return row[0] if row else None

    def reset_input(self, input_path: str) -> None:
        """Forget everything an input gave (it is read again tonight), once a night; its first-seen time
        and its pages' first-seen times are kept aside, so that pages that come back keep them."""
        if self.db.execute("SELECT 1 FROM night_reset WHERE path = ?", (input_path,)).fetchone():
            return
        known = self.db.execute("SELECT first_seen FROM inputs WHERE path = ?", (input_path,)).fetchone()
        self.db.execute("INSERT INTO night_reset VALUES (?, ?)", (input_path, known[0] if known else None))
        if known is None:  # a new input: it gave nothing yet (pages are recorded with their input's digest)
            return
        self.db.execute("INSERT INTO night_pages SELECT doc_id, first_seen FROM documents WHERE input_path = ?",
                        (input_path,))
        gone = "SELECT doc_id FROM documents WHERE input_path = ?"
        self.db.execute(f"DELETE FROM claims WHERE doc_id IN ({gone})", (input_path,))
        self.db.execute(f"DELETE FROM pending WHERE doc_id IN ({gone})", (input_path,))
        self.db.execute("DELETE FROM documents WHERE input_path = ?", (input_path,))
        self.db.execute("DELETE FROM events WHERE input_path = ?", (input_path,))
        self.db.execute("DELETE FROM inputs WHERE path = ?", (input_path,))

    def page_first_seen(self, doc_id: str) -> str | None:
        """When a page of a re-read input was first seen, if it was in the corpus before tonight."""
        row = self.db.execute("SELECT first_seen FROM night_pages WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def record_inputs(self, run_time: str) -> None:
        """Every input read tonight, with its digest and outcomes, as the next night will see it.

        An input whose pages all failed still replaces what it gave before."""
        for (path,) in self.db.execute("SELECT path FROM night_inputs WHERE path NOT IN (SELECT path FROM night_reset) "
                                       "ORDER BY path").fetchall():  # inputs of which no page was ingested
            self.reset_input(path)
        self.db.execute(
            "INSERT INTO inputs SELECT i.path, i.digest, COALESCE(r.first_seen, ?), ? FROM night_inputs i "
            "JOIN night_reset r USING (path)", (run_time, run_time))
        self.db.execute("INSERT INTO events SELECT e.* FROM night_events e JOIN night_inputs i "
                        "ON i.path = e.input_path ORDER BY e.rowid")

    def night_inputs(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM night_inputs").fetchone()[0])

    def outcomes(self, only: str | None = None) -> Iterator[tuple[str, str, str, str, str]]:
        """Tonight's outcome of every input (or those with outcome `only`), in path order: path, outcome,
        reason, stage, doc id."""
        yield from self.db.execute(
            "SELECT path, outcome, reason, stage, doc_id FROM night_events WHERE ? IS NULL OR outcome = ? "
            "ORDER BY path, rowid", (only, only))

    def outcome_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT outcome, count(*) FROM night_events GROUP BY outcome ORDER BY outcome"))

    def drop_reasons(self) -> dict[str, int]:
        """Dropped and failed inputs by reason (the part before any colon), most first."""
        return dict(self.db.execute(
            "SELECT CASE WHEN instr(reason, ':') THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END "
            "AS r, count(*) AS n FROM night_events WHERE outcome IN ('dropped', 'failed') GROUP BY r "
            "ORDER BY n DESC, min(path)"))

    def add_document(self, input_path: str, doc: Document, sig: bytes, keys: tuple[str | None, ...],
                     claim_keys: Sequence[str]) -> None:
        """A page processed tonight with its claims' canonical keys, and its lines (and their template
        keys) kept until the template pass has seen every page."""
        removed = json.dumps([list(r) for r in doc.removed], ensure_ascii=False)
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (doc.doc_id, input_path, doc.source_path, doc.format, doc.title, doc.text, doc.source_url, doc.published,
             doc.encoding, doc.script, doc.chars_raw, doc.first_seen, doc.last_seen, removed, sig))
        self._insert_claims(doc, claim_keys)
        self.db.execute("INSERT INTO pending VALUES (?, ?, ?)",
                        (doc.doc_id, json.dumps(doc.lines, ensure_ascii=False), json.dumps(keys)))

    def add_key_sigs(self, sigs: dict[str, bytes], first_seen: str, last_seen: str) -> None:
        """Signatures of claim keys, made by the workers (a key already known keeps its record)."""
        self.db.executemany(
            "INSERT INTO keys VALUES (?, NULL, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET sig = COALESCE(keys.sig, "
            "excluded.sig)", [(key, first_seen, last_seen, sig) for key, sig in sigs.items()])

    def pending(self, wanted: Callable[[str | None, tuple[str | None, ...]], bool],
                ) -> Iterator[tuple[Document, tuple[str | None, ...]]]:
        """Tonight's pages for the template pass, in path order, with their lines and line keys: those
        for which `wanted(source_url, line keys)` holds (the rest are never read whole).

        One page at a time, found by its path after the last one's: the pass updates these rows as it
        goes, and neither a list of every id nor an open scan is kept."""
        after = ""
        while row := self.db.execute(
                "SELECT d.source_path, d.source_url, p.keys, p.doc_id FROM pending p JOIN documents d USING (doc_id) "
                "WHERE d.source_path > ? ORDER BY d.source_path LIMIT 1", (after,)).fetchone():
            after, url, keys_json, doc_id = row
            keys = tuple(json.loads(keys_json))
            if wanted(url, keys):
                lines, *doc = self.db.execute("SELECT p.lines, d.* FROM pending p JOIN documents d USING (doc_id) "
                                              "WHERE doc_id = ?", (doc_id,)).fetchone()
                yield replace(_document(doc), lines=tuple(json.loads(lines))), keys

    def replace_document(self, doc: Document, sig: bytes, claim_keys: Sequence[str]) -> None:
        """A page the template pass changed: its new text, removals and claims."""
        removed = json.dumps([list(r) for r in doc.removed], ensure_ascii=False)
        self.db.execute("UPDATE documents SET text = ?, removed = ?, sig = ? WHERE doc_id = ?",
                        (doc.text, removed, sig, doc.doc_id))
        self.db.execute("DELETE FROM claims WHERE doc_id = ?", (doc.doc_id,))
        self._insert_claims(doc, claim_keys)

    def clear_pending(self) -> None:
        self.db.execute("DELETE FROM pending")

    def _insert_claims(self, doc: Document, claim_keys: Sequence[str]) -> None:
        self.db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (doc.doc_id, pos, c.text, json.dumps(c.section, ensure_ascii=False), json.dumps(c.roles), c.claim_type,
             c.char_start, c.char_end, c.paragraph, key)
            for pos, (c, key) in enumerate(zip(doc.claims, claim_keys, strict=True))])

    # --- the corpus: what the merge reads and writes, so it holds only one row per distinct key ---------

    def pages(self) -> Iterator[tuple[Document, str | None]]:
        """Every page in path order, without its claims or removals, with the page it republishes (if any)."""
        for row in self.db.execute(f"SELECT {PAGE_COLUMNS} FROM documents ORDER BY source_path"):
            yield _document(row), row[15]

    def removals(self) -> Iterator[tuple[str, list[list[Any]]]]:
        """Every page's removals in path order: doc id and [stage, rule, text, line] rows."""
        for doc_id, removed in self.db.execute("SELECT doc_id, removed FROM documents ORDER BY source_path"):
            yield doc_id, json.loads(removed)

    def count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def unsigned_pages(self) -> Iterator[tuple[str, str]]:
        """(doc_id, text) of pages without a signature (after the MinHash settings changed)."""
        ids = [r[0] for r in self.db.execute("SELECT doc_id FROM documents WHERE sig IS NULL")]
        for doc_id in ids:
            yield doc_id, self.db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()[0]

    def set_page_sig(self, doc_id: str, sig: bytes) -> None:
        self.db.execute("UPDATE documents SET sig = ? WHERE doc_id = ?", (sig, doc_id))

    def pages_first_seen(self, rows: Sequence[int]) -> dict[int, str]:
        """The first seen time of these pages, by their row in `bands("pages", ...)` (path order)."""
        out: dict[int, str] = {}
        for start in range(0, len(rows), 500):  # within SQLite's limit on parameters
            chunk = rows[start:start + 500]
            out.update(self.db.execute(
                f"SELECT idx, first_seen FROM merge_pages WHERE idx IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def page_sig(self, idx: int) -> bytes:
        return self.db.execute("SELECT sig FROM merge_pages JOIN documents USING (doc_id) WHERE idx = ?",
                               (idx,)).fetchone()[0]

    def set_duplicates(self, duplicate_of: Iterable[tuple[int, int]]) -> None:
        """(page, the earlier page it republishes) pairs, by path order; every other page is an original."""
        self.db.execute("UPDATE documents SET duplicate_of = NULL")
        pairs = iter(duplicate_of)
        while chunk := [(b, a) for a, b in itertools.islice(pairs, 10_000)]:  # the pairs are never all held
            self.db.executemany("UPDATE documents SET duplicate_of = (SELECT doc_id FROM merge_pages WHERE idx = ?) "
                                "WHERE doc_id = (SELECT doc_id FROM merge_pages WHERE idx = ?)", chunk)

    def update_keys(self) -> None:
        """The merge's tables: every page (merge_pages, path order) and every distinct claim key with its
        facts (merge_keys, key order); then every key's record in `keys`: first seen (kept once set),
        last seen.

        The claims are read once in table order and grouped by SQLite's sorter: walking them by key
        instead (the key index, then each row) reads the table at random, which grew faster than the
        corpus (a million claims: 16 s for the keys' records and facts, 5 s now)."""
        self._temp_table("merge_pages", "idx INTEGER PRIMARY KEY, doc_id TEXT UNIQUE NOT NULL, first_seen TEXT NOT "
                         "NULL, last_seen TEXT NOT NULL", "SELECT row_number() OVER (ORDER BY source_path) - 1, "
                         "doc_id, first_seen, last_seen FROM documents")
        self._temp_table(
            "merge_keys", "idx INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, place INTEGER NOT NULL, roles TEXT NOT "
            "NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, claim_id TEXT, cluster INTEGER",
            f"SELECT row_number() OVER (ORDER BY c.key) - 1, c.key, min((p.idx << {PLACE_BITS}) + c.position), "
            "json_group_array(DISTINCT c.roles), min(p.first_seen), max(p.last_seen), NULL, NULL "
            "FROM claims c NOT INDEXED CROSS JOIN merge_pages p USING (doc_id) GROUP BY c.key")
        self.db.execute(
            "INSERT INTO keys SELECT key, NULL, first_seen, last_seen, NULL FROM merge_keys WHERE true ORDER BY idx "
            "ON CONFLICT (key) DO UPDATE SET first_seen = min(keys.first_seen, excluded.first_seen), "
            "last_seen = max(keys.last_seen, excluded.last_seen)")

    def unsigned_keys(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT key FROM merge_keys JOIN keys USING (key) WHERE sig IS NULL ORDER BY idx")]

    def set_key_sigs(self, sigs: Iterable[tuple[str, bytes]]) -> None:
        self.db.executemany("UPDATE keys SET sig = ? WHERE key = ?", [(sig, key) for key, sig in sigs])

    def key_facts(self) -> Iterator[tuple[str, str | None, str, str, int, str]]:
        """Per distinct key of the corpus, in key order (its index in the merge): key, claim id, first and
        last seen, its first place (page in path order, then position, as one number) and the role lists
        it was tagged with (JSON)."""
        yield from self.db.execute("SELECT m.key, k.claim_id, k.first_seen, k.last_seen, m.place, m.roles "
                                   "FROM merge_keys m JOIN keys k USING (key) ORDER BY m.idx")

    def bands(self, what: str, bands: int, num_perm: int, per_scan: int) -> Iterator[Iterator[bytes]]:
        """The LSH bands of the signatures of the merge's keys (`keys`) or of the pages (`pages`), `per_scan`
        bands at a time: for each scan, every row's bytes of those bands, in index order. The index
        never holds whole signatures, and reads the table once per few bands rather than once per band."""
        width = num_perm // bands * 4
        table, source = {"keys": ("merge_keys", "keys USING (key)"),
                         "pages": ("merge_pages", "documents USING (doc_id)")}[what]
        # copied out in index order, so that each scan below is one pass in that order
        self._temp_table(f"{table}_sigs", "sig BLOB", f"SELECT sig FROM {table} JOIN {source} ORDER BY idx")
        for band in range(0, bands, per_scan):
            yield (r[0] for r in self.db.execute(f"SELECT substr(sig, ?, ?) FROM {table}_sigs ORDER BY rowid",
                                                 (band * width + 1, min(per_scan, bands - band) * width)))
        self.db.execute(f"DROP TABLE temp.{table}_sigs")

    def set_clusters(self, rows: Iterable[tuple[int, str, int]]) -> None:
        """(key index, claim id, cluster number in reading order) for every key of the merge; then every
        claim occurrence is copied out in cluster order, for `occurrences`."""
        self.db.executemany("UPDATE merge_keys SET claim_id = ?, cluster = ? WHERE idx = ?",  # in table order
                            sorted(((cid, cluster, idx) for idx, cid, cluster in rows), key=lambda r: r[2]))
        self.db.execute("UPDATE keys SET claim_id = (SELECT claim_id FROM merge_keys m WHERE m.key = keys.key) "
                        "WHERE key IN (SELECT key FROM merge_keys)")  # not UPDATE FROM: SQLite 3.33+ only
        # Each claim's cluster by its row: the claims are walked in key order beside merge_keys (both in key
        # order, so neither is read at random), then sorted by row to be joined to the claims in table order.
        self._temp_table("merge_claims", "claim_row INTEGER PRIMARY KEY, cluster INTEGER NOT NULL, claim_id TEXT NOT "
                         "NULL, key_idx INTEGER NOT NULL", "SELECT c.rowid, m.cluster, m.claim_id, m.idx FROM claims c "
                         "INDEXED BY claims_by_key CROSS JOIN merge_keys m USING (key) ORDER BY c.rowid")
        self._temp_table(
            "merge_occurrences", "cluster INTEGER, claim_id TEXT, doc_id TEXT, position INTEGER, char_start INTEGER, "
            "char_end INTEGER, text TEXT, section TEXT, roles TEXT, claim_type TEXT, key_idx INTEGER",
            "SELECT o.cluster, o.claim_id, c.doc_id, c.position, c.char_start, c.char_end, c.text, c.section, c.roles, "
            "c.claim_type, o.key_idx FROM claims c CROSS JOIN merge_claims o ON o.claim_row = c.rowid "
            "CROSS JOIN merge_pages p USING (doc_id) ORDER BY o.cluster, p.idx, c.position")
        self.db.execute("DROP TABLE temp.merge_claims")

    def occurrences(self, full: bool = True) -> Iterator[tuple[Any, ...]]:
        """Every claim occurrence, grouped by cluster in reading order, then in page order: cluster, claim
        id, doc id, position, char start, char end, text, and with `full` section, roles, type, key index.

        They were sorted once, by SQLite's sorter (which spills to disk: its memory does not follow the
        corpus), from one pass over the claims in table order; each reading is one pass over the copy."""
        columns = "*" if full else "cluster, claim_id, doc_id, position, char_start, char_end, text"
        yield from self.db.execute(f"SELECT {columns} FROM merge_occurrences ORDER BY rowid")

    def _temp_table(self, name: str, columns: str, rows: str) -> None:
        """A temp table of the merge made anew (one an earlier merge left is dropped), filled by a query."""
        self.db.execute(f"DROP TABLE IF EXISTS temp.{name}")
        self.db.execute(f"CREATE TEMP TABLE {name} ({columns})")
        self.db.execute(f"INSERT INTO {name} {rows}")

    # --- templates --------------------------------------------------------------------------------

    def add_template_page(self, site: str, page: str) -> bool:
        """Count a page of a site once; False when a page with this key was counted before."""
        if self.db.execute("INSERT OR IGNORE INTO template_pages VALUES (?, ?)", (site, page)).rowcount == 0:
            return False
        self.db.execute("INSERT INTO template_sites VALUES (?, 1) ON CONFLICT (site) DO UPDATE SET pages = pages + 1",
                        (site,))
        return True

    def count_template_lines(self, counts: Iterable[tuple[str, str, int, str]]) -> None:
        """(site, line key, pages that carried it, an example line) added to what earlier pages counted."""
        self.db.executemany("INSERT INTO templates VALUES (?, ?, ?, ?, NULL) ON CONFLICT (site, key) "
                            "DO UPDATE SET pages = pages + excluded.pages", counts)

    def template_lines(self, min_pages: int, min_share: float, corpus_min_sites: int,
                       ) -> tuple[set[tuple[str, str]], set[str]]:
        return _template_lines(self.db, min_pages, min_share, corpus_min_sites)

    def mark_templates(self, site: set[tuple[str, str]], corpus: set[str]) -> None:
        """Record in the table which lines are tonight's templates (`template_lines`), for people reading it."""
        self.db.execute("UPDATE templates SET template = NULL WHERE template IS NOT NULL")
        self.db.executemany("UPDATE templates SET template = 'template.corpus' WHERE key = ?", [(k,) for k in corpus])
        self.db.executemany("UPDATE templates SET template = 'template.site' WHERE site = ? AND key = ?", site)


PLACE_BITS = 32  # a claim's place in the merge: its page's index in path order, shifted, plus its position

# The documents columns in order, without the removals (read on their own by `removals`).
PAGE_COLUMNS = ("doc_id, input_path, source_path, format, title, text, source_url, published, encoding, script, "
                "chars_raw, first_seen, last_seen, '[]', sig, duplicate_of")


def _document(row: tuple[Any, ...]) -> Document:
    (doc_id, _, source_path, fmt, title, text, url, published, encoding, script, chars_raw, first, last,
     removed, _sig) = row[:15]
    return Document(source_path, fmt, source_url=url, encoding=encoding, chars_raw=chars_raw, title=title,
                    published=published, removed=tuple(Removal(*r) for r in json.loads(removed)), script=script,
                    text=text, doc_id=doc_id, first_seen=first, last_seen=last)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))


def is_state(path: Path) -> bool:
    """Whether `path` is a state this program wrote: an SQLite file whose meta names a schema version
    (written at the first commit) and which has every table. Read-only, so a foreign file is untouched."""
    try:
        with closing(_read_only(path)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "meta" not in tables:
                return False
            version = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    except sqlite3.Error:
        return False
    return version is not None and (version[0] != SCHEMA_VERSION or tables >= TABLES)


def _template_lines(db: sqlite3.Connection, min_pages: int, min_share: float, corpus_min_sites: int,
                    ) -> tuple[set[tuple[str, str]], set[str]]:
    """The template lines under these settings: (site, line key) pairs seen on `min_pages` pages
    that are `min_share` of the site's pages, and line keys seen on `corpus_min_sites` sites.
    Few by nature (a site template is on a share of the site's pages), whatever the corpus size."""
    site = {(s, k) for s, k in db.execute(
        "SELECT t.site, t.key FROM templates t JOIN template_sites s USING (site) WHERE t.site != '' "
        "AND t.pages >= ? AND t.pages >= ? * s.pages", (min_pages, min_share))}
    corpus = {k for (k,) in db.execute(
        "SELECT key FROM templates WHERE site != '' GROUP BY key HAVING count(*) >= ?",
        (corpus_min_sites,))} if corpus_min_sites else set()
    return site, corpus


def stored_template_lines(path: Path, min_pages: int, min_share: float, corpus_min_sites: int,
                          ) -> tuple[set[tuple[str, str]], set[str]]:
    """The template lines an output folder's state holds, read without touching it (`explain --corpus`)."""
    if not is_state(path):
        raise StateError(f"{path}: not a state of this pipeline")
    with closing(_read_only(path)) as db:
        return _template_lines(db, min_pages, min_share, corpus_min_sites)


def open_copy(previous: Path | None, target: Path) -> State:
    """A working copy of the previous state (SQLite's backup API), or a new one when there is none.
    A previous state that is not one this program wrote (empty, missing tables, another program's
    database) is refused: taken as empty, it would lose every page of inputs no longer present."""
    unreadable = f"{previous}: unreadable state (%s); run with --full to rebuild"
    if previous is not None and not is_state(previous):
        raise StateError(unreadable % "not a state of this pipeline, or missing its tables")
    try:
        if previous is not None:
            with closing(_read_only(previous)) as src, \
                    closing(sqlite3.connect(target)) as dst:
                src.backup(dst)
        return State(target)
    except sqlite3.DatabaseError as exc:
        raise StateError(unreadable % exc) from None
