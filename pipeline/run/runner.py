"""The runner: one nightly run, composed of the per-page stages and the corpus steps.

    per page     pages.build_stages: read, decode, extract, normalise, boilerplate, markup, segment,
                 roles, claims; run by an executor (local.results, or cluster.results on Dask)
    per corpus   1. templates  each site's template lines, learned over the night, taken out of its
                               pages (`remove_templates`: segment, roles and claims run again on them)
                 2. dedup      exact and near-duplicate claims and pages merged (`_merge`)
                 3. write      the corpus tables, report and manifest into a staging folder, swapped in

A stage that drops a page returns `Drop(reason)`, which is counted and recorded; a stage that
crashes on one page fails that page only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Config
from ..corpus import dedup, state, templates
from ..faults import checkpoint
from ..model import Document, Drop, Stage, pages_in
from ..output import report, write
from ..stages import read, roles
from ..text import canonical
from . import local
from .pages import build_stages, without_templates

log = logging.getLogger(__name__)


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
    removed: Counter[str] = Counter()
    for doc, keys in db.pending(rules.touches) if rules else ():  # only pages with a template line are read whole
        cleaned = without_templates(doc, keys, rules, stages)
        if cleaned is not None:
            removed.update(r.rule for r in cleaned.removed if r.stage == templates.STAGE)
            db.replace_document(cleaned, dedup.page_signature(cleaned.text, cfg.dedup),
                                [canonical(c.text) for c in cleaned.claims])
    db.clear_pending()
    return removed


CORPUS_SECTIONS = ("dedup", "write")  # settings of the corpus steps after the pages: changing them reprocesses none


def processing_version(cfg: Config) -> str:
    """Version of the settings a page's processing depends on (every section but the corpus steps'; a
    new stage's section counts without being listed), with the contents of the rule and lexicon files
    in use: an edited rule file reprocesses the pages."""
    settings = {k: v for k, v in cfg.as_dict().items() if k not in CORPUS_SECTIONS}
    return _digest({"pipeline": __version__, **settings}, cfg)


def minhash_settings(cfg: Config) -> str:
    d = cfg.dedup
    return f"{dedup.MINHASH} perm{d.num_perm} k{d.shingle} doc-k{d.doc_shingle}"


# Given the number of inputs, a context that gives the function to call as each one is done (the
# command line passes a progress bar; the runner knows nothing of terminals).
Progress = Callable[[int], AbstractContextManager[Callable[[int], object]]]


@contextmanager
def _no_progress(total: int) -> Iterator[Callable[[int], object]]:
    yield lambda done: None


def ingest(raw_dir: Path, out: Path, cfg: Config, *, workers: int = 1, dry_run: bool = False,
           progress: Progress | None = None, full: bool = False, scheduler: str | None = None) -> RunResult:
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
            steps = {"setup": time.monotonic() - t0}  # wall seconds of each step, filled in as they finish
            with state.open_copy(previous if previous.is_file() and not full else None, folder / state.FILE) as db:
                result, built = _run(raw_dir, out, folder, db, cfg, stages, lexicon, workers, progress, run_time,
                                     lock_fd, scheduler, steps)
                result.manifest = {
                    "run_id": run_id, "started": run_time,
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                    "seconds": round(time.monotonic() - t0, 3), "pipeline_version": __version__,
                    "config_version": config_version(cfg), "roles_version": lexicon.version,
                    "minhash": minhash_settings(cfg),
                    "config": cfg.as_dict(), "raw_dir": str(raw_dir), "workers": workers, "full": full,
                    "scheduler": scheduler, "seconds_by_step": steps,
                    **result.manifest,
                }
                if dry_run:
                    return result
                if built is None:  # nothing changed: the previous files were linked
                    outputs = result.manifest.pop("outputs")
                else:
                    t1 = time.monotonic()
                    outputs = write.write_folder(folder, built, cfg.write)  # streamed from the state
                    steps["write"] = time.monotonic() - t1
                _report(out, folder, result, outputs, db, steps)
                db.commit()
            write.swap(out, folder)
            return result
        finally:
            if folder.exists():  # not swapped in: an error or a dry run
                write.discard(folder)


def _report(out: Path, folder: Path, result: RunResult, outputs: dict[str, Any], db: state.State,
            steps: dict[str, float]) -> None:
    """The change since the previous corpus, report.html, then the manifest (last, as it lists the files).

    The state keeps the files and corpus counts for the next night (which may link them unchanged)."""
    t0 = time.monotonic()
    manifest = result.manifest
    change = report.change(out, folder)
    counts = manifest["counts"]
    counts.update({k: change.pop(k) for k in ("claims_added", "claims_gaining_support", "claims_gone")})
    manifest["change"] = change
    manifest["seconds"] = round(manifest["seconds"] + steps.get("write", 0), 3)
    manifest["nights"] = nights = [*json.loads(db.meta().get(NIGHTS, "[]")), _night(manifest)][-NIGHTS_KEPT:]
    fig = report.write(folder, {**manifest, "inputs": [o.as_dict() for o in result.failed]})  # it lists the failures
    counts["pages_without_claims"] = {k: n for k, n in fig.no_claims_tonight.items() if n}  # tonight's, by reason
    outputs[write.REPORT] = {"sha256": write.sha256_file(folder / write.REPORT)}
    db.set_meta({LAST_RUN: json.dumps({"outputs": outputs, "counts": {k: counts[k] for k in CORPUS_COUNTS}}),
                 NIGHTS: json.dumps(nights)})
    steps["report"] = time.monotonic() - t0
    manifest["seconds"] = round(manifest["seconds"] + steps["report"], 3)  # the whole run
    for step, seconds in steps.items():
        steps[step] = round(seconds, 3)
    write.write_manifest(folder, {**manifest, "outputs": outputs}, (Outcome(*row).as_dict() for row in db.outcomes()))


def _night(manifest: dict[str, Any]) -> dict[str, Any]:
    """A night's line in the trend the state keeps (the report's "Trend")."""
    counts, inputs = manifest["counts"], manifest["counts"]["inputs"]
    return {"run_id": manifest["run_id"], "pages_in": pages_in(inputs),
            **{k: inputs.get(k, 0) for k in ("ingested", "failed")},
            **{k: counts[k] for k in ("claims_added", "claims_gone", "claims")}, "seconds": manifest["seconds"]}


def _run(raw_dir: Path, out: Path, folder: Path, db: state.State, cfg: Config, stages: list[tuple[str, Stage]],
         lexicon: roles.Lexicon, workers: int, progress: Progress | None, run_time: str, lock_fd: int,
         scheduler: str | None, steps: dict[str, float]) -> tuple[RunResult, dict[str, write.Batches] | None]:
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
                tick(1)
            else:
                db.note_event(state.Event(item.input_path or item.path, item.path, item.outcome, item.reason))
                tick(1)

    t0 = time.monotonic()
    total = sum(1 for _ in read.walk(raw_dir))
    stage_counts: dict[str, Counter[str]] = {}
    removed_by_rule: Counter[str] = Counter()
    learner = templates.Learner(db)
    ingested = 0

    with (progress or _no_progress)(total) as tick:
        if scheduler is None:
            processed = local.results(documents(), cfg, stages, workers, lock_fd)
        else:
            from . import cluster  # Dask is needed only for this executor

            processed = cluster.results(documents(), cfg, workers, scheduler, config_version(cfg))
        for p in processed:  # each page into the state as it comes
            checkpoint("read")
            res = p.result
            for name, (n_in, n_out, n_claims, seconds) in p.counts.items():
                c = stage_counts.setdefault(name, Counter())
                c["docs_in"] += n_in
                c["docs_out"] += n_out
                c["claims_out"] += n_claims
                c["seconds"] += seconds
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
                tick(1)
    db.record_inputs(run_time)
    steps["pages"] = time.monotonic() - t0
    if ingested:
        t0 = time.monotonic()
        learner.flush()
        rules = templates.Rules.of(db, cfg.templates)  # the counts are complete: tonight's template lines
        removed_by_rule.update(remove_templates(db, rules, cfg, stages))
        db.mark_templates(rules.site, rules.corpus)
        steps["templates"] = time.monotonic() - t0

    result = RunResult(failed=[Outcome(*row) for row in db.outcomes("failed")])
    counts: dict[str, Any] = {
        "inputs": db.outcome_counts(),
        "stages": {k: stage_figures(v) for k, v in stage_counts.items()},
        "drop_reasons": db.drop_reasons(),
        "removed_by_rule": dict(removed_by_rule.most_common()),
    }
    before = json.loads(meta[LAST_RUN]) if LAST_RUN in meta else None
    if not db.night_inputs() and not stale and before is not None and write.link_outputs(out, folder,
                                                                                          before["outputs"]):
        corpus_counts = {k: before["counts"][k] for k in CORPUS_COUNTS}
        result.manifest = {"counts": {**counts, **corpus_counts}, "outputs": before["outputs"]}
        return result, None

    t0 = time.monotonic()
    merged, built = _merge(db, cfg, lexicon)
    steps["dedup"] = time.monotonic() - t0
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


def stage_figures(c: Counter[str]) -> dict[str, int | float]:
    """A stage's line in the manifest: pages in and out, claims out, seconds (summed over the workers:
    the stage's cost, not the wall time) and milliseconds a page."""
    return {"docs_in": c["docs_in"], "docs_out": c["docs_out"], "claims_out": c["claims_out"],
            "seconds": round(c["seconds"], 3), "ms_per_page": round(1000 * c["seconds"] / max(c["docs_in"], 1), 3)}


CORPUS_COUNTS = ("documents", "duplicate_documents", "claims", "claim_occurrences")
LAST_RUN = "last_run"  # state meta: the corpus files and counts the last run wrote
NIGHTS = "nights"  # state meta: a line of figures for each of the last NIGHTS_KEPT nights
NIGHTS_KEPT = 30
