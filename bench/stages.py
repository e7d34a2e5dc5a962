"""Milliseconds a page of each per-page stage, one worker, in this process (no driver, no write).

    python bench/stages.py RAW_DIR

Every document under RAW_DIR goes through the stages of `pages.build_stages` one at a time, then
through what a worker adds (the template line keys, the page signature, the claims' keys and
signatures); each step is timed on its own. This is where a page's CPU goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipeline.cli.main import config_for  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.corpus import dedup, templates  # noqa: E402
from pipeline.model import Document, Drop  # noqa: E402
from pipeline.run import pages  # noqa: E402
from pipeline.stages import read  # noqa: E402
from pipeline.text import canonical  # noqa: E402


def claim_signatures(page: Document, cfg: Config) -> list[bytes]:
    """What a worker makes of a page's claims: their canonical keys' MinHash signatures."""
    return dedup.signatures(sorted({canonical(c.text) for c in page.claims}), cfg.dedup.shingle, cfg.dedup.num_perm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    args = parser.parse_args()
    cfg = config_for(None)
    stages = pages.build_stages(cfg)
    docs = [d for d in read.read_inputs(args.raw, cfg.read) if isinstance(d, Document)]
    spent: Counter[str] = Counter()

    def timed(name: str, step: Callable[..., Any], *step_args: Any) -> Any:
        start = time.perf_counter()
        result = step(*step_args)
        spent[name] += time.perf_counter() - start
        return result

    begin = time.perf_counter()
    for doc in docs:
        current: Document | Drop = doc
        for name, stage in stages:
            current = timed(name, stage, current)
            if isinstance(current, Drop):
                break
        if isinstance(current, Drop):
            continue
        timed("template keys", templates.keys_of, current, cfg.templates)
        timed("page signature", dedup.page_signature, current.text, cfg.dedup)
        timed("claim signatures", claim_signatures, current, cfg)
    total = time.perf_counter() - begin
    for name, seconds in spent.most_common():
        print(f"{name:17s} {seconds * 1000 / len(docs):6.2f} ms/page")
    print(f"total {total * 1000 / len(docs):.2f} ms/page ({len(docs) / total:.1f} pages/s) over {len(docs)} pages")


if __name__ == "__main__":
    main()
