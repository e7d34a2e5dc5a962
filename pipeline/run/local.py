"""The local executor: the per-page work in this process, or in a pool of forked worker processes,
results in input order with a bounded number of pages in flight (`bounded_map`, which the Dask
executor uses too).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..config import Config
from ..model import Document, Stage
from .pages import Processed, process

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


def results(docs: Iterable[Document], cfg: Config, stages: list[tuple[str, Stage]],
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


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
