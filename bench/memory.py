"""Peak memory of whole runs: the driver's RSS and the whole process tree's PSS, sampled as it runs.

    python bench/memory.py RAW_DIR [RAW_DIR ...] [--workers 2]

Each RAW_DIR (say 20,000 and 100,000 pages from make_input.py) is ingested with `--full -q` into a
temporary folder by `python -m pipeline`, while /proc is read every 0.2 s. RSS counts pages shared
between the driver and its forked workers once per process; PSS splits them, so the tree's PSS is
what the run really holds. Prints, per input: pages, seconds, peak driver RSS, peak tree PSS; and the
growth of both from the first input to the last.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def _kb(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:  # the process ended between listing and reading
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children")
        with contextlib.suppress(OSError):  # the process ended meanwhile
            pids += [int(p) for p in children.read_text().split()]
        i += 1
    return pids


def measure(raw: Path, workers: int) -> tuple[int, float, int, int]:
    """(pages, seconds, peak driver RSS KB, peak tree PSS KB) of one run."""
    pages = sum(1 for p in raw.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", str(raw), "--out", f"{tmp}/out",
                                 "--full", "-q", "--workers", str(workers)], cwd=PROJECT)
        driver = tree = 0
        while proc.poll() is None:
            driver = max(driver, _kb(Path(f"/proc/{proc.pid}/status"), "VmRSS:"))
            tree = max(tree, sum(_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss:") for p in _tree(proc.pid)))
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"ingest {raw} failed with exit {proc.returncode}")
    return pages, seconds, driver, tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, nargs="+")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    results = []
    for raw in args.raw:
        pages, seconds, driver, tree = measure(raw, args.workers)
        results.append((driver, tree))
        print(f"{pages:>8,} pages: {seconds:7.1f} s; peak driver RSS {driver / 1024:6.0f} MB; "
              f"peak tree PSS {tree / 1024:6.0f} MB", flush=True)
    if len(results) > 1:
        (d0, t0), (d1, t1) = results[0], results[-1]
        print(f"growth first -> last: driver RSS {d1 / d0 - 1:+.0%}, tree PSS {t1 / t0 - 1:+.0%}")


if __name__ == "__main__":
    main()
