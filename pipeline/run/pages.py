"""The per-page work: the stages in their one visible list, and what running a page through them
gives an executor to send back (`Processed`: the slim page, its stage counts, and what the corpus
steps need of it, worked out where the page was processed). Executors (`local`, `cluster`) are given
`process` and the stages; they do not choose them.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from ..config import Config
from ..corpus import dedup, templates
from ..model import Document, Drop, Stage
from ..stages import boilerplate, claims, decode, extract, markup, normalise, roles, segment
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


def without_templates(doc: Document, keys: tuple[str | None, ...], rules: templates.Rules,
                      stages: list[tuple[str, Stage]]) -> Document | None:
    """The page without its site's template lines, segmented and tagged again (AFTER_TEMPLATES); None
    when it has no template line, or when it would lose every line (a site whose pages are all alike
    is mirrors, not template)."""
    cleaned = templates.apply(doc, keys, rules)
    if cleaned is None or not cleaned.lines:
        return None
    for name, stage in stages:
        if name in AFTER_TEMPLATES:
            cleaned = stage(cleaned)  # type: ignore[assignment]  # these stages never drop a page
    return cleaned


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


StageCounts = dict[str, tuple[int, int, int, float]]  # stage -> (docs in, docs out, claims out, seconds)


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
        started = time.perf_counter()
        try:
            with time_limit(cfg.read.max_page_seconds):
                result = stage(current)  # type: ignore[arg-type]
        except PageTimeout:
            result = Drop("page took too long", f"over {cfg.read.max_page_seconds:g} s in {name}", failure=True)
        except Exception as exc:  # one bad page must not stop the run
            log.debug("stage %s crashed on %s", name, doc.source_path, exc_info=True)
            result = Drop(f"internal error: {type(exc).__name__}", str(exc)[:200], failure=True)
        dropped = isinstance(result, Drop)
        counts[name] = (1, 0 if dropped else 1, 0 if dropped else len(result.claims),  # type: ignore[union-attr]
                        time.perf_counter() - started)
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
