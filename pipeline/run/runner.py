"""The runner: read every input, pass each document through the stages, merge, write.

The per-document stages are composed in one visible list (`build_stages`); the corpus-level steps
(dedup, write) follow in `ingest`. A stage that drops a document returns `Drop(reason)`, which is
counted and recorded; a stage that crashes on one document fails that document only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import __version__
from ..config import Config
from ..corpus import dedup, state, templates
from ..faults import checkpoint
from ..model import Document, Drop, Stage
from ..output import report, write
from ..stages import boilerplate, claims, decode, extract, markup, normalise, read, roles, segment
from ..text import canonical

log = logging.getLogger(__name__)


# Stages that run again on a page after the corpus-level template step removed lines from it.
AFTER_TEMPLATES = ("segment", "roles", "claims")


def build_stages(cfg: Config, until: str | None = None) -> list[tuple[str, Stage]]:
    """The per-document pipeline, in order (up to and including `until`: the model-fitting scripts
    stop before the model they fit). After it, at corpus level: templates, dedup, write."""
    stages: list[tuple[str, Callable[[], Stage]]] = [
        ("decode", lambda: decode.make(cfg.decode)),
        ("extract", lambda: extract.make(cfg.extract, cfg)),
        ("normalise", lambda: normalise.make(cfg.normalise)),
        ("boilerplate", lambda: boilerplate.make(cfg.boilerplate, cfg)),
        ("markup", markup.make),
        ("segment", lambda: segment.make(cfg.segment)),
        ("roles", lambda: roles.make(cfg.roles, cfg)),
        ("claims", lambda: claims.make(cfg.claims, cfg)),
    ]
    names = [name for name, _ in stages]
    return [(name, make()) for name, make in stages[: names.index(until) + 1 if until else len(stages)]]


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
    """The run's manifest (without its list of inputs, which is streamed from the state into the
    file) and the inputs that failed."""

    failed: list[Outcome] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


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
    """One document after the stages: the slim document (with what the corpus steps need of it,
    worked out here so the parallel workers do it: its line keys and its signature), or the Drop."""

    source_path: str
    input_path: str  # the input file it came from (a record's file)
    doc_id: str
    result: Document | Drop
    stage: str
    counts: StageCounts
    keys: tuple[str | None, ...] = ()
    sig: bytes = b""
    claim_keys: tuple[str, ...] = ()  # each claim's canonical key
    claim_sigs: dict[str, bytes] = field(default_factory=dict)  # claim key -> its MinHash signature


def process(doc: Document, stages: list[tuple[str, Stage]], cfg: Config) -> Processed:
    """Run one document through the stages, catching a crash, or a page that takes longer than
    `max_page_seconds`, as that document's failure."""
    counts: StageCounts = {}
    current: Document | Drop = doc
    input_path = doc.input_path or doc.source_path
    name = ""
    for name, stage in stages:
        try:
            with time_limit(cfg.read.max_page_seconds):
                result = stage(current)  # type: ignore[arg-type]
        except PageTimeout:
            result = Drop("page took too long", f"over {cfg.read.max_page_seconds:g} s in {name}", failure=True)
        except Exception as exc:  # one bad page must not stop the run
            log.debug("stage %s crashed on %s", name, doc.source_path, exc_info=True)
            result = Drop(f"internal error: {type(exc).__name__}", str(exc)[:200], failure=True)
        dropped = isinstance(result, Drop)
        counts[name] = [1, 0 if dropped else 1, 0 if dropped else len(result.claims)]  # type: ignore[union-attr]
        if isinstance(result, Drop):
            return Processed(doc.source_path, input_path, doc.doc_id, result, name, counts)
        current = result
    assert isinstance(current, Document)
    slim = replace(current, raw=b"", content="")  # the corpus needs neither; keep memory small
    claim_keys = tuple(canonical(c.text) for c in slim.claims)
    distinct = sorted(set(claim_keys))
    return Processed(doc.source_path, input_path, doc.doc_id, slim, name, counts,
                     templates.keys_of(slim, cfg.templates),
                     dedup.page_signature(slim.text, cfg.dedup), claim_keys,
                     dict(zip(distinct, dedup.signatures(distinct, cfg.dedup.shingle, cfg.dedup.num_perm),
                              strict=True)))


class PageTimeout(Exception):
    """One stage ran longer on one page than `max_page_seconds`."""


def _alarm(signum: int, frame: object) -> None:
    raise PageTimeout


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise PageTimeout in the block after `seconds` (SIGALRM: the main thread of a process only, so
    a Dask worker thread runs unbounded; a long call inside C code is stopped when it returns)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_WORKER: list[tuple[Config, list[tuple[str, Stage]]]] = []


def _init_worker(cfg: Config, stages: list[tuple[str, Stage]], lock_fd: int | None, parent: int) -> None:
    """A forked worker takes the driver's stages as they are (its rules compiled, OpenCC loaded):
    fork passes them without pickling, and building them again cost each worker 0.1 s at the start."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle: no worker tracebacks
    if lock_fd is not None:
        os.close(lock_fd)  # a worker must never keep the output folder locked
    _WORKER[:] = [(cfg, stages)]


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when the run dies (Linux): a `kill -9` leaves no orphans."""
    libc_name = ctypes.util.find_library("c")
    prctl = getattr(ctypes.CDLL(libc_name), "prctl", None) if libc_name else None
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1


def _process_in_worker(docs: list[Document]) -> list[Processed]:
    cfg, stages = _WORKER[0]
    return [process(doc, stages, cfg) for doc in docs]


IN_FLIGHT_PER_WORKER = 16  # documents queued per worker: enough to keep it busy, few enough to bound memory
BATCH = 4  # documents per task: spreads an executor's cost per task (futures, thread hand-offs) over several


def _results(docs: Iterable[Document], cfg: Config, stages: list[tuple[str, Stage]],
             workers: int, lock_fd: int | None = None) -> Iterator[Processed]:
    """Processed documents in input order; parallel over `workers` processes when more than one.

    At most a few documents per worker are read ahead, so memory does not grow with the input.
    """
    if workers <= 1:
        for doc in docs:
            yield process(doc, stages, cfg)
        return
    pending = iter(docs)
    first = next(pending, None)
    if first is None:  # a night with nothing new starts no workers
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(cfg, stages, lock_fd, os.getpid())) as pool:
        yield from bounded_map(lambda batch: pool.submit(_process_in_worker, batch),
                               itertools.chain((first,), pending), workers * IN_FLIGHT_PER_WORKER)


def bounded_map(submit: Callable[[list[Document]], Any], docs: Iterable[Document], slots: int
                ) -> Iterator[Processed]:
    """Results in input order, `BATCH` documents a task, with at most about `slots` documents submitted
    and not yet taken: what keeps memory flat on any executor whose futures have `.result()` (a
    process pool's, Dask's). A task's future gives the list of its documents' results."""
    in_flight: deque[Any] = deque()
    pending = iter(docs)
    while batch := list(itertools.islice(pending, BATCH)):
        in_flight.append(submit(batch))
        if len(in_flight) * BATCH >= slots:
            yield from in_flight.popleft().result()
    while in_flight:
        yield from in_flight.popleft().result()


@contextmanager
def output_lock(out: Path) -> Iterator[int]:
    """Hold an exclusive lock beside the output folder for the whole run (yields its descriptor)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.with_name(f".{out.name}.lock")
    fh = lock_path.open("a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"another run holds {lock_path}") from None
        yield fh.fileno()
    finally:
        fh.close()


def _digest(settings: dict[str, Any], cfg: Config) -> str:
    """Short digest of settings together with the contents of the rule and lexicon files in use."""
    files = {name: write.sha256_file(path) for name, path in cfg.data_files().items()}
    blob = json.dumps({**settings, "data_files": files}, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


def config_version(cfg: Config) -> str:
    """Every setting and the data files' contents (the manifest's `config_version`)."""
    return _digest(cfg.as_dict(), cfg)


def remove_templates(db: state.State, rules: templates.Rules, cfg: Config,
                     stages: list[tuple[str, Stage]]) -> Counter[str]:
    """Take template lines out of tonight's pages, once every page of the night has been learned.

    Pages are read back from the state one at a time, and only those with a template line in full.
    A page that loses lines is segmented and tagged again; one that would lose every line keeps them
    (a site whose pages are all alike is mirrors, not template). Returns the template removals by rule.
    """
    again = [stage for name, stage in stages if name in AFTER_TEMPLATES]
    removed: Counter[str] = Counter()
    for doc, keys in db.pending(rules.touches) if rules else ():  # only pages with a template line are read whole
        cleaned = templates.apply(doc, keys, rules)
        if cleaned is not None and cleaned.lines:
            for stage in again:
                cleaned = stage(cleaned)  # type: ignore[assignment]  # these stages never drop a page
            removed.update(r.rule for r in cleaned.removed if r.stage == templates.STAGE)
            db.replace_document(cleaned, dedup.page_signature(cleaned.text, cfg.dedup),
                                [canonical(c.text) for c in cleaned.claims])
    db.clear_pending()
    return removed


PROCESSING_SECTIONS = ("read", "decode", "extract", "boilerplate", "normalise", "templates", "segment", "roles")


def processing_version(cfg: Config) -> str:
    """Version of the settings a page's processing depends on (dedup and write settings are not),
    with the contents of the rule and lexicon files in use: an edited rule file reprocesses the pages."""
    settings = {k: v for k, v in cfg.as_dict().items() if k in PROCESSING_SECTIONS}
    return _digest({"pipeline": __version__, **settings}, cfg)


def minhash_settings(cfg: Config) -> str:
    d = cfg.dedup
    return f"{dedup.MINHASH} perm{d.num_perm} k{d.shingle} doc-k{d.doc_shingle}"


def ingest(raw_dir: Path, out: Path, cfg: Config, *, workers: int = 1, dry_run: bool = False,
           progress: bool = False, full: bool = False, scheduler: str | None = None) -> RunResult:
    """One nightly run: the inputs under raw_dir that are new or changed into the corpus at `out`.

    Everything happens in a staging folder that holds a working copy of the state; the corpus and
    the state are swapped in together at the end, so a run killed anywhere changes nothing.
    """
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    run_time = started.isoformat(timespec="seconds")
    t0 = time.monotonic()
    stages = build_stages(cfg)  # loads every rule file up front: a bad one is a config error before any work
    lexicon = roles.load_lexicon(cfg.data_file(cfg.roles.lexicon))
    write.check_out(out, raw_dir)
    # A dry run takes no lock and stages in a temporary folder: it leaves nothing beside `out`.
    with nullcontext(None) if dry_run else output_lock(out) as lock_fd:
        folder = Path(tempfile.mkdtemp(prefix="pipeline-dry-run-")) if dry_run else write.stage(out)
        try:
            previous = out / state.FILE
            with state.open_copy(previous if previous.is_file() and not full else None, folder / state.FILE) as db:
                result, built = _run(raw_dir, out, folder, db, cfg, stages, lexicon, workers, progress, run_time,
                                     lock_fd, scheduler)
                result.manifest = {
                    "run_id": run_id, "started": run_time,
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                    "seconds": round(time.monotonic() - t0, 3), "pipeline_version": __version__,
                    "config_version": config_version(cfg), "roles_version": lexicon.version,
                    "minhash": minhash_settings(cfg),
                    "config": cfg.as_dict(), "raw_dir": str(raw_dir), "workers": workers, "full": full,
                    "scheduler": scheduler,
                    **result.manifest,
                }
                if dry_run:
                    return result
                if built is None:  # nothing changed: the previous files were linked
                    outputs = result.manifest.pop("outputs")
                else:
                    outputs = write.write_folder(folder, built, cfg.write)  # streamed from the state
                _report(out, folder, result, outputs, db)
                db.commit()
            write.swap(out, folder)
            return result
        finally:
            if folder.exists():  # not swapped in: an error or a dry run
                write.discard(folder)


def _report(out: Path, folder: Path, result: RunResult, outputs: dict[str, Any], db: state.State) -> None:
    """The change since the previous corpus, report.html, then the manifest (last, as it lists the files).

    The state keeps the files and corpus counts for the next night (which may link them unchanged)."""
    manifest = result.manifest
    change = report.change(out, folder)
    manifest["counts"].update(claims_added=change.pop("claims_added"),
                              claims_gaining_support=change.pop("claims_gaining_support"))
    manifest["change"] = change
    report.write(folder, {**manifest, "inputs": [o.as_dict() for o in result.failed]})  # it lists the failures
    outputs[write.REPORT] = {"sha256": write.sha256_file(folder / write.REPORT)}
    db.set_meta({LAST_RUN: json.dumps({"outputs": outputs,
                                       "counts": {k: manifest["counts"][k] for k in CORPUS_COUNTS}})})
    write.write_manifest(folder, {**manifest, "outputs": outputs}, (Outcome(*row).as_dict() for row in db.outcomes()))


def _run(raw_dir: Path, out: Path, folder: Path, db: state.State, cfg: Config, stages: list[tuple[str, Stage]],
         lexicon: roles.Lexicon, workers: int, progress: bool, run_time: str, lock_fd: int,
         scheduler: str | None = None) -> tuple[RunResult, dict[str, write.Batches] | None]:
    """Read, process and merge; the tables to write, or None when nothing changed (the previous
    corpus files are then linked into the staging folder)."""
    meta = db.meta()
    stale = bool(meta) and meta.get("processing_version") != processing_version(cfg)
    if stale:
        log.warning("settings changed since the state was built: every input present is processed again "
                    "(pages from inputs no longer present keep their earlier processing; --full rebuilds)")
    if meta.get("minhash") not in (None, minhash_settings(cfg)):
        db.forget_signatures()
    db.set_meta({"processing_version": processing_version(cfg), "minhash": minhash_settings(cfg)})
    db.start_night()  # from here on, what happens to each input is kept in the state, not in memory

    def documents() -> Iterator[Document]:
        def unchanged(rel: str, digest: str) -> bool:
            return not stale and db.digest_of(rel) == digest

        for item in read.read_inputs(raw_dir, cfg.read, unchanged):
            if not isinstance(item, read.InputEvent):
                yield item
            elif item.outcome == "read":
                db.note_input(item.path, item.digest)
            elif item.outcome == "unchanged":
                db.note_unchanged(item.path)  # its outcomes, as the state remembers them
                bar.update(1)
            else:
                db.note_event(state.Event(item.input_path or item.path, item.path, item.outcome, item.reason))
                bar.update(1)

    total = sum(1 for _ in read.walk(raw_dir))
    stage_counts: dict[str, Counter[str]] = {}
    removed_by_rule: Counter[str] = Counter()
    learner = templates.Learner(db)
    ingested = 0

    bar = tqdm(total=total, unit="file", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    if scheduler is None:
        processed = _results(documents(), cfg, stages, workers, lock_fd)
    else:
        from . import cluster  # Dask is needed only for this executor

        processed = cluster.results(documents(), cfg, workers, scheduler)
    for p in processed:  # each page into the state as it comes
        checkpoint("read")
        res = p.result
        for name, (n_in, n_out, n_claims) in p.counts.items():
            c = stage_counts.setdefault(name, Counter())
            c["docs_in"] += n_in
            c["docs_out"] += n_out
            c["claims_out"] += n_claims
        input_path = p.input_path
        if isinstance(res, Drop):
            kind = "failed" if res.failure else "dropped"
            reason = res.reason + (f": {res.detail}" if res.detail else "")
            db.note_event(state.Event(input_path, p.source_path, kind, reason, p.stage, p.doc_id))
        elif (other := _same_bytes(db, p.doc_id, input_path)) is not None:
            db.note_event(state.Event(input_path, p.source_path, "dropped", f"same page as {other}", "read",
                                      res.doc_id))
        else:
            db.reset_input(input_path)
            doc = replace(res, first_seen=db.page_first_seen(res.doc_id) or run_time, last_seen=run_time)
            learner.learn(doc, p.keys)
            ingested += 1
            removed_by_rule.update(r.rule for r in doc.removed)
            db.add_document(input_path, doc, p.sig, p.keys, p.claim_keys)
            db.add_key_sigs(p.claim_sigs, doc.first_seen, run_time)
            db.note_event(state.Event(input_path, p.source_path, "ingested", doc_id=res.doc_id))
        if p.source_path == input_path:  # a file's page, not one record of a crawler file
            bar.update(1)
    bar.close()
    db.record_inputs(run_time)
    if ingested:
        learner.flush()
        rules = templates.Rules.of(db, cfg.templates)  # the counts are complete: tonight's template lines
        removed_by_rule.update(remove_templates(db, rules, cfg, stages))
        db.mark_templates(rules.site, rules.corpus)

    result = RunResult(failed=[Outcome(*row) for row in db.outcomes("failed")])
    counts: dict[str, Any] = {
        "inputs": db.outcome_counts(),
        "stages": {k: dict(v) for k, v in stage_counts.items()},
        "drop_reasons": db.drop_reasons(),
        "removed_by_rule": dict(removed_by_rule.most_common()),
    }
    before = json.loads(meta[LAST_RUN]) if LAST_RUN in meta else None
    if not db.night_inputs() and not stale and before is not None and write.link_outputs(out, folder,
                                                                                          before["outputs"]):
        corpus_counts = {k: before["counts"][k] for k in CORPUS_COUNTS}
        result.manifest = {"counts": {**counts, **corpus_counts}, "outputs": before["outputs"]}
        return result, None

    merged, built = _merge(db, cfg, lexicon)
    corpus_counts = {"documents": merged.documents, "duplicate_documents": merged.duplicate_documents,
                     "claims": merged.claims, "claim_occurrences": merged.occurrences}
    result.manifest = {"counts": {**counts, **corpus_counts}}
    return result, built


def _same_bytes(db: state.State, doc_id: str, input_path: str) -> str | None:
    """Where this very page (the same bytes at the same URL, or path) already is: a page ingested earlier
    tonight, or one of another input already in the corpus (tonight's copy is then dropped, not stored
    twice). The same bytes at another place are another page: dedup marks it `duplicate_of`."""
    owner = db.owner_before(doc_id)
    return db.ingested_tonight(doc_id) or (owner if owner not in (None, input_path) else None)


def _merge(db: state.State, cfg: Config, lexicon: roles.Lexicon) -> tuple[dedup.Merged, dict[str, write.Batches]]:
    """Every page's claims merged (dedup) in the state, and the tables to write, streamed from it."""
    checkpoint("dedup")
    for doc_id, text in db.unsigned_pages():  # after a change of MinHash settings
        db.set_page_sig(doc_id, dedup.page_signature(text, cfg.dedup))
    merged = dedup.merge(db, cfg.dedup)
    role_rows = [{"role_id": r.id, "name": r.name, "aliases": list(r.aliases), "lexicon_version": lexicon.version}
                 for r in lexicon.roles]
    return merged, write.tables(merged, role_rows, db.pages, db.removals)


CORPUS_COUNTS = ("documents", "duplicate_documents", "claims", "claim_occurrences")
LAST_RUN = "last_run"  # state meta: the corpus files and counts the last run wrote


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
