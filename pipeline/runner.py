"""The runner: read every input, pass each document through the stages, merge, write.

The per-document stages are composed in one visible list (`build_stages`); the corpus-level steps
(dedup, write) follow in `ingest`. A stage that drops a document returns `Drop(reason)`, which is
counted and recorded; a stage that crashes on one document fails that document only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import __version__, boilerplate, decode, dedup, extract, normalise, read, roles, segment, templates, write
from .config import Config
from .model import Document, Drop, Stage

log = logging.getLogger(__name__)


# Stages that run again on a page after the corpus-level template step removed lines from it.
AFTER_TEMPLATES = ("segment", "roles")


def build_stages(cfg: Config) -> list[tuple[str, Stage]]:
    """The per-document pipeline, in order. After it, at corpus level: templates, dedup, write."""
    return [
        ("decode", decode.make(cfg.decode)),
        ("extract", extract.make(cfg.extract, cfg)),
        ("normalise", normalise.make(cfg.normalise)),
        ("boilerplate", boilerplate.make(cfg.boilerplate, cfg)),
        ("segment", segment.make(cfg.segment)),
        ("roles", roles.make(cfg.roles, cfg)),
    ]


class LockedError(Exception):
    """Another run holds the output folder (exit code 3)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input document: the manifest's per-input line."""

    path: str
    outcome: str  # ingested, dropped, failed, skipped, sidecar
    reason: str = ""
    stage: str = ""
    doc_id: str = ""

    def as_dict(self) -> dict[str, str]:
        """The manifest entry: empty fields left out."""
        return {k: v for k, v in (("path", self.path), ("outcome", self.outcome), ("reason", self.reason),
                                  ("stage", self.stage), ("doc_id", self.doc_id)) if v}


@dataclass
class RunResult:
    outcomes: list[Outcome] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome == "failed"]


def trace(doc: Document, stages: list[tuple[str, Stage]]) -> list[tuple[str, Document | Drop]]:
    """Each stage's result for one document, stopping at the first Drop (used by `explain`)."""
    steps: list[tuple[str, Document | Drop]] = []
    current: Document | Drop = doc
    for name, stage in stages:
        current = stage(current)  # type: ignore[arg-type]
        steps.append((name, current))
        if isinstance(current, Drop):
            break
    return steps


StageCounts = dict[str, list[int]]  # stage -> [docs in, docs out, claims out]


@dataclass(frozen=True, slots=True)
class Processed:
    """One document after the stages: the slim document, or the Drop and the stage that made it."""

    source_path: str
    doc_id: str
    result: Document | Drop
    stage: str
    counts: StageCounts


def process(doc: Document, stages: list[tuple[str, Stage]]) -> Processed:
    """Run one document through the stages, catching a crash as that document's failure."""
    counts: StageCounts = {}
    current: Document | Drop = doc
    name = ""
    for name, stage in stages:
        try:
            result = stage(current)  # type: ignore[arg-type]
        except Exception as exc:  # one bad page must not stop the run
            log.debug("stage %s crashed on %s", name, doc.source_path, exc_info=True)
            result = Drop(f"internal error: {type(exc).__name__}", str(exc)[:200], failure=True)
        dropped = isinstance(result, Drop)
        counts[name] = [1, 0 if dropped else 1, 0 if dropped else len(result.claims)]  # type: ignore[union-attr]
        if isinstance(result, Drop):
            return Processed(doc.source_path, doc.doc_id, result, name, counts)
        current = result
    assert isinstance(current, Document)
    slim = replace(current, raw=b"", content="")  # the corpus needs neither; keep memory small
    return Processed(doc.source_path, doc.doc_id, slim, name, counts)


_WORKER_STAGES: list[tuple[str, Stage]] = []


def _init_worker(cfg: Config) -> None:
    _WORKER_STAGES[:] = build_stages(cfg)


def _process_in_worker(doc: Document) -> Processed:
    return process(doc, _WORKER_STAGES)


def _results(docs: Iterable[Document], cfg: Config, stages: list[tuple[str, Stage]],
             workers: int) -> Iterator[Processed]:
    """Processed documents in input order; parallel over `workers` processes when more than one."""
    if workers <= 1:
        for doc in docs:
            yield process(doc, stages)
        return
    with multiprocessing.get_context("fork").Pool(workers, _init_worker, (cfg,)) as pool:
        yield from pool.imap(_process_in_worker, docs, chunksize=2)


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the output folder for the whole run."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.with_name(f".{out.name}.lock")
    fh = lock_path.open("a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"another run holds {lock_path}") from None
        yield
    finally:
        fh.close()


def config_version(cfg: Config) -> str:
    blob = json.dumps(cfg.as_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


def remove_templates(docs: list[Document], state: templates.Templates, cfg: Config,
                     stages: list[tuple[str, Stage]]) -> list[Document]:
    """Learn this night's pages into the site templates, then take template lines out of every page.

    A page that loses lines is segmented and tagged again; one that would lose every line keeps them
    (a site whose pages are all alike is mirrors, not template).
    """
    keys = [templates.keys_of(doc, cfg.templates) for doc in docs]
    for doc, doc_keys in zip(docs, keys, strict=True):
        state.learn(doc, doc_keys)
    again = [stage for name, stage in stages if name in AFTER_TEMPLATES]
    out = []
    for doc, doc_keys in zip(docs, keys, strict=True):
        cleaned = templates.apply(doc, doc_keys, state, cfg.templates)
        if cleaned is not None and cleaned.lines:
            for stage in again:
                cleaned = stage(cleaned)  # type: ignore[assignment]  # segment and roles never drop
            doc = cleaned
        out.append(doc)
    return out


def ingest(raw_dir: Path, out: Path, cfg: Config, *, workers: int = 1, dry_run: bool = False,
           progress: bool = False, full: bool = False) -> RunResult:
    """One nightly run: every input under raw_dir into the corpus at `out`."""
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    t0 = time.monotonic()
    stages = build_stages(cfg)  # loads every rule file up front: a bad one is a config error before any work
    lexicon = roles.load_lexicon(cfg.data_file(cfg.roles.lexicon))
    with output_lock(out):
        result = RunResult()
        events: list[Outcome] = []

        def documents() -> Iterator[Document]:
            for item in read.read_inputs(raw_dir, cfg.read):
                if isinstance(item, read.InputEvent):
                    events.append(Outcome(item.path, item.outcome, item.reason))
                    bar.update(1)
                else:
                    yield item

        total = sum(1 for _ in read.walk(raw_dir))
        done: list[Document] = []
        stage_counts: dict[str, Counter[str]] = {}
        seen_ids: dict[str, str] = {}
        bar = tqdm(total=total, unit="file", disable=not progress, file=sys.stderr, dynamic_ncols=True)
        for p in _results(documents(), cfg, stages, workers):
            res = p.result
            for name, (n_in, n_out, n_claims) in p.counts.items():
                c = stage_counts.setdefault(name, Counter())
                c["docs_in"] += n_in
                c["docs_out"] += n_out
                c["claims_out"] += n_claims
            if isinstance(res, Drop):
                kind = "failed" if res.failure else "dropped"
                reason = res.reason + (f": {res.detail}" if res.detail else "")
                events.append(Outcome(p.source_path, kind, reason, p.stage, p.doc_id))
            elif res.doc_id in seen_ids:
                events.append(Outcome(p.source_path, "dropped", f"same bytes as {seen_ids[res.doc_id]}",
                                      "read", res.doc_id))
            else:
                seen_ids[res.doc_id] = res.source_path
                done.append(res)
                events.append(Outcome(p.source_path, "ingested", doc_id=res.doc_id))
            if "#" not in p.source_path:
                bar.update(1)
        bar.close()
        state = templates.Templates() if full else templates.load(out / templates.FILE)
        done = remove_templates(done, state, cfg, stages)
        corpus = dedup.merge(done)
        run_time = started.isoformat(timespec="seconds")
        role_rows = [{"role_id": r.id, "name": r.name, "aliases": list(r.aliases), "lexicon_version": lexicon.version}
                     for r in lexicon.roles]
        built = write.tables(corpus, role_rows, run_time, state.rows(cfg.templates))
        events.sort(key=lambda o: o.path)
        result.outcomes = events
        by_outcome = Counter(o.outcome for o in events)
        result.manifest = {
            "run_id": run_id, "started": run_time,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - t0, 3),
            "pipeline_version": __version__, "config_version": config_version(cfg),
            "roles_version": lexicon.version, "config": cfg.as_dict(),
            "raw_dir": str(raw_dir), "workers": workers,
            "counts": {
                "inputs": dict(sorted(by_outcome.items())),
                "stages": {k: dict(v) for k, v in stage_counts.items()},
                "drop_reasons": dict(Counter(o.reason.split(":")[0] for o in events
                                             if o.outcome in ("dropped", "failed")).most_common()),
                "removed_by_rule": dict(Counter(r.rule for d in done for r in d.removed).most_common()),
                "documents": len(corpus.documents), "duplicate_documents": len(corpus.duplicate_of),
                "claims": len(corpus.clusters),
                "claim_occurrences": sum(len(c.occurrences) for c in corpus.clusters),
            },
            "inputs": [o.as_dict() for o in events],
        }
        if not dry_run:
            write.publish(out, built, result.manifest, cfg.write)
        return result


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
