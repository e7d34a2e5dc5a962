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
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
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
CREATE TABLE IF NOT EXISTS claims (
    doc_id TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL, section TEXT NOT NULL,
    roles TEXT NOT NULL, claim_type TEXT NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    paragraph INTEGER NOT NULL, PRIMARY KEY (doc_id, position));
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY, claim_id TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, sig BLOB);
CREATE TABLE IF NOT EXISTS templates (
    site TEXT, kind TEXT, key TEXT, pages INTEGER, text TEXT, template TEXT);
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

    def close(self, commit: bool) -> None:
        if commit:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
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

    def digests(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT path, digest FROM inputs"))

    def events_of(self, input_path: str) -> list[Event]:
        rows = self.db.execute("SELECT * FROM events WHERE input_path = ? ORDER BY rowid", (input_path,))
        return [Event(*row) for row in rows]

    def replace_input(self, input_path: str, digest: str, run_time: str, events: Iterable[Event],
                      docs: Iterable[Document]) -> None:
        """Tonight's reading of one input takes the place of everything it gave before."""
        first = self.db.execute("SELECT first_seen FROM inputs WHERE path = ?", (input_path,)).fetchone()
        self.forget_input(input_path)
        self.db.execute("INSERT INTO inputs VALUES (?, ?, ?, ?)", (input_path, digest, first[0] if first else run_time,
                                                                  run_time))
        self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                            [(e.input_path, e.path, e.outcome, e.reason, e.stage, e.doc_id) for e in events])
        for doc in docs:
            self._insert_document(input_path, doc)

    def forget_input(self, input_path: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT doc_id FROM documents WHERE input_path = ?", (input_path,))]
        self.db.executemany("DELETE FROM claims WHERE doc_id = ?", [(i,) for i in ids])
        self.db.execute("DELETE FROM documents WHERE input_path = ?", (input_path,))
        self.db.execute("DELETE FROM events WHERE input_path = ?", (input_path,))
        self.db.execute("DELETE FROM inputs WHERE path = ?", (input_path,))

    def first_seen_of(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """When pages with these ids were first ingested (a changed crawler file keeps its old records)."""
        out = {}
        for doc_id in doc_ids:
            row = self.db.execute("SELECT first_seen FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
            if row:
                out[doc_id] = row[0]
        return out

    def doc_inputs(self) -> dict[str, str]:
        """doc_id -> the input it came from, for pages already in the corpus."""
        return dict(self.db.execute("SELECT doc_id, input_path FROM documents"))

    def _insert_document(self, input_path: str, doc: Document) -> None:
        removed = json.dumps([[r.stage, r.rule, r.text, r.line] for r in doc.removed], ensure_ascii=False)
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (doc.doc_id, input_path, doc.source_path, doc.format, doc.title, doc.text, doc.source_url, doc.published,
             doc.encoding, doc.script, doc.chars_raw, doc.first_seen, doc.last_seen, removed))
        self.db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (doc.doc_id, pos, c.text, json.dumps(c.section, ensure_ascii=False), json.dumps(c.roles), c.claim_type,
             c.char_start, c.char_end, c.paragraph) for pos, c in enumerate(doc.claims)])

    # --- the corpus -------------------------------------------------------------------------------

    def documents(self) -> Iterator[Document]:
        """Every page in the corpus, with its claims and what cleaning removed."""
        claims: dict[str, list[Claim]] = {}
        for row in self.db.execute("SELECT * FROM claims ORDER BY doc_id, position"):
            doc_id, _, text, section, roles, claim_type, start, end, paragraph = row
            claims.setdefault(doc_id, []).append(Claim(text, tuple(json.loads(section)), tuple(json.loads(roles)),
                                                       claim_type, start, end, paragraph))
        for row in self.db.execute("SELECT * FROM documents ORDER BY source_path"):
            (doc_id, _, source_path, fmt, title, text, url, published, encoding, script, chars_raw, first, last,
             removed, _sig) = row
            yield Document(source_path, fmt, source_url=url, encoding=encoding, chars_raw=chars_raw, title=title,
                           published=published, removed=tuple(Removal(*r) for r in json.loads(removed)),
                           script=script, text=text, claims=tuple(claims.get(doc_id, ())), doc_id=doc_id,
                           first_seen=first, last_seen=last)

    def doc_sigs(self) -> dict[str, bytes]:
        return dict(self.db.execute("SELECT doc_id, sig FROM documents WHERE sig IS NOT NULL"))

    def keys(self) -> dict[str, KeyRecord]:
        return {key: KeyRecord(cid, first, last, sig)
                for key, cid, first, last, sig in self.db.execute("SELECT * FROM keys")}

    def save_dedup(self, keys: dict[str, KeyRecord], doc_sigs: dict[str, bytes]) -> None:
        """Claim ids, first/last seen and signatures of every key; signatures of every page."""
        self.db.execute("DELETE FROM keys")
        self.db.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?)",
                            [(k, r.claim_id, r.first_seen, r.last_seen, r.sig) for k, r in keys.items()])
        self.db.executemany("UPDATE documents SET sig = ? WHERE doc_id = ?", [(s, d) for d, s in doc_sigs.items()])

    # --- templates --------------------------------------------------------------------------------

    def template_rows(self) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM templates")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def save_templates(self, rows: list[dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM templates")
        self.db.executemany("INSERT INTO templates VALUES (:site, :kind, :key, :pages, :text, :template)", rows)


def open_copy(previous: Path | None, target: Path) -> State:
    """A working copy of the previous state (SQLite's backup API), or a new one when there is none."""
    try:
        if previous is not None:
            with closing(sqlite3.connect(previous)) as src, closing(sqlite3.connect(target)) as dst:
                src.backup(dst)
        return State(target)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{previous}: unreadable state ({exc}); run with --full to rebuild") from None
