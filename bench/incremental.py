"""Second night over unchanged inputs vs the first: wall time ratio, and whether the outputs are identical.

    python bench/incremental.py [--shared ../shared] [--workers 1]

The input is the shared html-dev pages plus the seeds, copied into one temporary RAW_DIR. Each
night is timed twice: the run itself (`runner.ingest`, what a scheduler's job spends past start-up)
and the whole `python -m pipeline ingest` process (interpreter start and imports included).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipeline.cli.main import config_for  # noqa: E402
from pipeline.output import write  # noqa: E402
from pipeline.run import runner  # noqa: E402


def digests(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in write.CORPUS_FILES}


def in_process(raw: Path, out: Path, workers: int, full: bool) -> float:
    start = time.perf_counter()
    runner.ingest(raw, out, config_for(None), workers=workers, full=full)
    return time.perf_counter() - start


def as_process(raw: Path, out: Path, workers: int, full: bool) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(raw), "--out", str(out), "-q",
                    "--workers", str(workers), *(["--full"] if full else [])], cwd=PROJECT, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=PROJECT.parent / "shared")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        shutil.copytree(args.shared / "samples" / "html-dev" / "original", raw / "html-dev")
        shutil.copytree(args.shared / "samples" / "seeds", raw / "seeds")
        pages = sum(1 for p in raw.rglob("*") if p.is_file())
        print(f"input: {pages} files (html-dev + seeds), workers {args.workers}")
        for label, run in (("run itself", in_process), ("whole process", as_process)):
            out = Path(tmp) / f"out-{label.replace(' ', '-')}"
            first = run(raw, out, args.workers, True)
            before = digests(out)
            second = run(raw, out, args.workers, False)
            same = digests(out) == before
            print(f"{label:>13}: first {first:.3f} s, second {second:.3f} s, "
                  f"ratio {second / first:.1%}, outputs identical: {same}")


if __name__ == "__main__":
    main()
