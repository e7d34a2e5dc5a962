"""Scale-out: the per-page work on a Dask cluster (`ingest --scheduler ADDRESS`, or `local`).

Why Dask (distributed): it is pure Python and pip-installable, runs the same code on a laptop
(`LocalCluster`), on a batch system (dask-jobqueue) or on Kubernetes, and gives per-task futures,
so the driver keeps only a few pages per worker in flight, as the local executor does. Ray would
work too but brings its own object store and a much larger install for what is a map over pages.

What runs on the cluster is what costs: every per-page stage (decode ... roles) and the MinHash
signatures of each page and of each claim key. The driver keeps what must see the whole corpus:
the state, the template counts, LSH banding and union-find over the compact signatures, and the
write. Results come back in input order, so the corpus is the same row for row as a local run.
Workers must see the same config and rule files (a shared file system or the same image).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..config import Config
from ..model import Document, Stage
from .local import IN_FLIGHT_PER_WORKER, bounded_map
from .pages import Processed, build_stages, process

CONNECT_SECONDS = 10  # an address where no scheduler answers is an error after this long


class SchedulerError(Exception):
    """The scheduler cannot be reached (exit code 2)."""


_STAGES: dict[str, list[tuple[str, Stage]]] = {}  # per worker process: built once per configuration


def _process(docs: list[Document], cfg: Config, key: str) -> list[Processed]:
    """A batch on a worker; `key` (the driver's config_version, made once a run: it hashes the data
    files) says which stages it needs."""
    stages = _STAGES.get(key)
    if stages is None:
        stages = _STAGES[key] = build_stages(cfg)
    return [process(doc, stages, cfg) for doc in docs]


def results(docs: Iterable[Document], cfg: Config, workers: int, scheduler: str, key: str) -> Iterator[Processed]:
    """Processed pages in input order, computed on the cluster at `scheduler` ("local": a local
    cluster of `workers` single-threaded processes, started and stopped here); `key` names the
    configuration (the runner's config_version), so a worker builds its stages once for it."""
    from dask.distributed import Client, LocalCluster  # optional: only this executor needs it

    cluster = (LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
               if scheduler == "local" else None)
    try:
        try:
            client = Client(cluster if cluster is not None else scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(f"no Dask scheduler answers at {scheduler}: {exc}") from None
        with client:
            slots = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
            yield from bounded_map(lambda batch: client.submit(_process, batch, cfg, key, pure=False), docs, slots)
    finally:
        if cluster is not None:
            cluster.close()
