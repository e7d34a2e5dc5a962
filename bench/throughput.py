"""Pages per second: the full pipeline vs a bare loop of trafilatura.extract, and 1 vs 2 workers.

    python bench/throughput.py [--pages 2000] [--raw DIR] [--workers 1 2]

Without --raw, a RAW_DIR of `--pages` varied copies of the shared samples is built first
(bench/make_input.py). For each worker count: the bare loop (read the file, `trafilatura.extract`
on its bytes, in a process pool of that size) and the whole nightly run (`runner.ingest --full`:
read, decode, extract, clean, normalise, segment, tag, dedup, write Parquet/CSV).
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipeline.cli.main import config_for  # noqa: E402
from pipeline.run import runner  # noqa: E402
from pipeline.stages import read  # noqa: E402


def bare(path: Path) -> int:
    import trafilatura

    text = trafilatura.extract(path.read_bytes())
    return len(text or "")


def bare_loop(files: list[Path], workers: int) -> float:
    start = time.perf_counter()
    if workers == 1:
        for path in files:
            bare(path)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for _ in pool.imap_unordered(bare, files, chunksize=8):
                pass
    return time.perf_counter() - start


def pipeline(raw: Path, out: Path, workers: int) -> float:
    start = time.perf_counter()
    runner.ingest(raw, out, config_for(None), workers=workers, full=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = args.raw
        if raw is None:
            raw = Path(tmp) / "raw"
            subprocess.run([sys.executable, str(PROJECT / "bench" / "make_input.py"), str(raw),
                            "--pages", str(args.pages)], check=True, stdout=subprocess.DEVNULL)
        files = [p for p in read.walk(raw) if p.is_file()]
        mb = sum(p.stat().st_size for p in files) / 2**20
        print(f"input: {len(files)} pages, {mb:.0f} MB; {multiprocessing.cpu_count()} cores")
        full_by_workers = {}
        for workers in args.workers:
            t_bare = bare_loop(files, workers)
            t_full = pipeline(raw, Path(tmp) / f"out{workers}", workers)
            full_by_workers[workers] = t_full
            print(f"workers {workers}: trafilatura loop {len(files) / t_bare:6.1f} pages/s ({mb / t_bare:.2f} MB/s); "
                  f"full pipeline {len(files) / t_full:6.1f} pages/s ({mb / t_full:.2f} MB/s); "
                  f"pipeline/loop {t_bare / t_full:.2f}x")
        if 1 in full_by_workers and 2 in full_by_workers:
            print(f"full pipeline speed-up 1 -> 2 workers: {full_by_workers[1] / full_by_workers[2]:.2f}x")


if __name__ == "__main__":
    main()
