"""The nightly state: what earlier runs ingested, kept in SQLite inside the output folder.

`state.sqlite` sits beside the corpus files and is swapped in with them, so the state and the
corpus always belong to the same run: a run killed at any point leaves both as the previous run
wrote them, and the next run redoes the work. It holds every input seen (path and content digest)
with its outcomes, every ingested page with its claims, each canonical key's claim id, first/last
seen and MinHash signature (the near-duplicate index), each page's signature, the learned site
templates, and the settings the state was built with.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .dedup import KeyRecord
from .model import Claim, Document, Removal

FILE = "state.sqlite"
SCHEMA_VERSION = "1"

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
    sig BLOB);
CREATE INDEX IF NOT EXISTS documents_by_input ON documents (input_path);
CREATE INDEX IF NOT EXISTS documents_by_path ON documents (source_path);
CREATE TABLE IF NOT EXISTS claims (
    doc_id TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL, section TEXT NOT NULL,
    roles TEXT NOT NULL, claim_type TEXT NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    paragraph INTEGER NOT NULL, PRIMARY KEY (doc_id, position));
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY, claim_id TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, sig BLOB);
CREATE TABLE IF NOT EXISTS templates (
    site TEXT, kind TEXT, key TEXT, pages INTEGER, text TEXT, template TEXT);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, lines TEXT NOT NULL, keys TEXT NOT NULL);
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
        self.db.executescript(SCHEMA)
        version = self.meta().get("schema_version")
        if version not in (None, SCHEMA_VERSION):
            raise StateError(f"{path}: state schema {version}, this pipeline reads {SCHEMA_VERSION}; run with --full")
        self.db.execute("BEGIN")
        self.open = True

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
            self.db.execute("ROLLBACK")
            self.db.close()
            self.open = False

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

    def digests(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT path, digest FROM inputs"))

    def events_of(self, input_path: str) -> list[Event]:
        rows = self.db.execute("SELECT * FROM events WHERE input_path = ? ORDER BY rowid", (input_path,))
        return [Event(*row) for row in rows]

    def reset_input(self, input_path: str) -> tuple[str | None, dict[str, str]]:
        """Forget everything an input gave (it is read again tonight): its first-seen time and its
        pages' first-seen times, so that pages that come back keep them."""
        row = self.db.execute("SELECT first_seen FROM inputs WHERE path = ?", (input_path,)).fetchone()
        pages = dict(self.db.execute("SELECT doc_id, first_seen FROM documents WHERE input_path = ?", (input_path,)))
        self.db.executemany("DELETE FROM claims WHERE doc_id = ?", [(i,) for i in pages])
        self.db.executemany("DELETE FROM pending WHERE doc_id = ?", [(i,) for i in pages])
        self.db.execute("DELETE FROM documents WHERE input_path = ?", (input_path,))
        self.db.execute("DELETE FROM events WHERE input_path = ?", (input_path,))
        self.db.execute("DELETE FROM inputs WHERE path = ?", (input_path,))
        return (row[0] if row else None), pages

    def record_input(self, input_path: str, digest: str, first_seen: str, last_seen: str,
                     events: Iterable[Event]) -> None:
        self.db.execute("INSERT INTO inputs VALUES (?, ?, ?, ?)", (input_path, digest, first_seen, last_seen))
        self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                            [(e.input_path, e.path, e.outcome, e.reason, e.stage, e.doc_id) for e in events])

    def doc_inputs(self) -> dict[str, str]:
        """doc_id -> the input it came from, for pages already in the corpus."""
        return dict(self.db.execute("SELECT doc_id, input_path FROM documents"))

    def add_document(self, input_path: str, doc: Document, sig: bytes, keys: tuple[str | None, ...]) -> None:
        """A page processed tonight, with its lines kept until the template pass has seen every page."""
        removed = json.dumps([[r.stage, r.rule, r.text, r.line] for r in doc.removed], ensure_ascii=False)
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, input_path, doc.source_path, doc.format, doc.title, doc.text, doc.source_url, doc.published,
             doc.encoding, doc.script, doc.chars_raw, doc.first_seen, doc.last_seen, removed, sig))
        self._insert_claims(doc)
        self.db.execute("INSERT INTO pending VALUES (?, ?, ?)",
                        (doc.doc_id, json.dumps(doc.lines, ensure_ascii=False), json.dumps(keys)))

    def add_key_sigs(self, sigs: dict[str, bytes], first_seen: str, last_seen: str) -> None:
        """Signatures of claim keys, made by the workers (a key already known keeps its record)."""
        self.db.executemany(
            "INSERT INTO keys VALUES (?, NULL, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET sig = COALESCE(keys.sig, "
            "excluded.sig)", [(key, first_seen, last_seen, sig) for key, sig in sigs.items()])

    def pending(self) -> Iterator[tuple[Document, tuple[str | None, ...]]]:
        """Tonight's pages with their lines and line keys, for the template pass."""
        ids = [r[0] for r in self.db.execute(
            "SELECT doc_id FROM pending JOIN documents USING (doc_id) ORDER BY source_path")]
        for doc_id in ids:  # one page at a time: the pass updates these rows, and memory stays flat
            lines, keys, *row = self.db.execute("SELECT p.lines, p.keys, d.* FROM pending p JOIN documents d "
                                                "USING (doc_id) WHERE doc_id = ?", (doc_id,)).fetchone()
            yield replace(_document(row, ()), lines=tuple(json.loads(lines))), tuple(json.loads(keys))

    def replace_document(self, doc: Document, sig: bytes) -> None:
        """A page the template pass changed: its new text, removals and claims."""
        removed = json.dumps([[r.stage, r.rule, r.text, r.line] for r in doc.removed], ensure_ascii=False)
        self.db.execute("UPDATE documents SET text = ?, removed = ?, sig = ? WHERE doc_id = ?",
                        (doc.text, removed, sig, doc.doc_id))
        self.db.execute("DELETE FROM claims WHERE doc_id = ?", (doc.doc_id,))
        self._insert_claims(doc)

    def clear_pending(self) -> None:
        self.db.execute("DELETE FROM pending")

    def _insert_claims(self, doc: Document) -> None:
        self.db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (doc.doc_id, pos, c.text, json.dumps(c.section, ensure_ascii=False), json.dumps(c.roles), c.claim_type,
             c.char_start, c.char_end, c.paragraph) for pos, c in enumerate(doc.claims)])

    # --- the corpus -------------------------------------------------------------------------------

    def documents(self, claims: bool = True, text: bool = True) -> Iterator[Document]:
        """Every page in the corpus in path order; without claims (to write the pages) or without text
        and removals (to merge the claims), so only what is needed is held in memory."""
        by_doc: dict[str, list[Claim]] = {}
        shared: dict[str, tuple[str, ...]] = {}  # a section or role list is held once, not per claim
        if claims:
            for row in self.db.execute("SELECT * FROM claims ORDER BY doc_id, position"):
                doc_id, _, claim_text, section, roles, claim_type, start, end, paragraph = row
                sections = shared.get(section) or shared.setdefault(section, tuple(json.loads(section)))
                role_ids = shared.get(roles) or shared.setdefault(roles, tuple(json.loads(roles)))
                by_doc.setdefault(doc_id, []).append(Claim(claim_text, sections, role_ids, sys.intern(claim_type),
                                                           start, end, paragraph))
        columns = "*" if text else ("doc_id, input_path, source_path, format, title, '' AS text, source_url, "
                                    "published, encoding, script, chars_raw, first_seen, last_seen, '[]' AS removed, "
                                    "NULL AS sig")
        for row in self.db.execute(f"SELECT {columns} FROM documents ORDER BY source_path"):
            yield _document(row, tuple(by_doc.pop(row[0], ())))

    def doc_sigs(self) -> dict[str, bytes]:
        return dict(self.db.execute("SELECT doc_id, sig FROM documents WHERE sig IS NOT NULL"))

    def keys(self) -> dict[str, KeyRecord]:
        return {key: KeyRecord(cid, first, last, sig)
                for key, cid, first, last, sig in self.db.execute("SELECT * FROM keys")}

    def unsigned_pages(self) -> Iterator[tuple[str, str]]:
        """(doc_id, text) of pages without a signature (after the MinHash settings changed)."""
        ids = [r[0] for r in self.db.execute("SELECT doc_id FROM documents WHERE sig IS NULL")]
        for doc_id in ids:
            yield doc_id, self.db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()[0]

    def set_page_sig(self, doc_id: str, sig: bytes) -> None:
        self.db.execute("UPDATE documents SET sig = ? WHERE doc_id = ?", (sig, doc_id))

    def save_keys(self, keys: dict[str, KeyRecord]) -> None:
        """Claim id, first/last seen and signature of every key."""
        self.db.execute("DELETE FROM keys")
        self.db.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?)",
                            [(k, r.claim_id, r.first_seen, r.last_seen, r.sig) for k, r in keys.items()])

    # --- templates --------------------------------------------------------------------------------

    def template_rows(self) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM templates")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def save_templates(self, rows: list[dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM templates")
        self.db.executemany("INSERT INTO templates VALUES (:site, :kind, :key, :pages, :text, :template)", rows)


def _document(row: tuple[Any, ...], claims: tuple[Claim, ...]) -> Document:
    (doc_id, _, source_path, fmt, title, text, url, published, encoding, script, chars_raw, first, last,
     removed, _sig) = row
    return Document(source_path, fmt, source_url=url, encoding=encoding, chars_raw=chars_raw, title=title,
                    published=published, removed=tuple(Removal(*r) for r in json.loads(removed)), script=script,
                    text=text, claims=claims, doc_id=doc_id, first_seen=first, last_seen=last)


def open_copy(previous: Path | None, target: Path) -> State:
    """A working copy of the previous state (SQLite's backup API), or a new one when there is none."""
    try:
        if previous is not None:
            with closing(sqlite3.connect(previous)) as src, closing(sqlite3.connect(target)) as dst:
                src.backup(dst)
        return State(target)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{previous}: unreadable state ({exc}); run with --full to rebuild") from None
