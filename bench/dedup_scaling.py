"""Dedup time for growing numbers of synthetic claims: is it close to linear?

    python bench/dedup_scaling.py [--sizes 100000 300000 1000000]

Claims are made from a vocabulary of Chinese role phrases: about a third are exact repeats (another
page, another script is folded by the key), a third light rewordings of an earlier claim (one word
changed or dropped: near duplicates to find and verify), the rest new. They are spread over pages
of 20 claims, put into a fresh state (SQLite, in a temporary folder) as the per-page phase would.
Each size is then merged from scratch and timed: `dedup.merge` (signatures included) plus reading
every cluster and occurrence back, which is what writing the corpus costs on top. The state is built
in a child process, so the peak memory printed is the merge's own (with the interpreter and imports).
Run one size per process: the peak is the process's highest so far.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from pipeline.config import DedupConfig  # noqa: E402
from pipeline.corpus import dedup  # noqa: E402
from pipeline.corpus.state import State  # noqa: E402
from pipeline.model import Claim, Document  # noqa: E402
from pipeline.text import canonical  # noqa: E402

ROLES = [("产品运营", "product_operations"), ("内容运营", "content_operations"), ("用户运营", "user_operations"),
         ("新媒体运营", "new_media_operations"), ("市场推广", "market_promotion"), ("SEM专员", "sem")]
VERBS = ["负责", "主要负责", "需要", "通常要", "每天都要", "偏向于", "更关注", "重点在于"]
OBJECTS = ["拉新", "留存", "促活", "内容生产", "选题规划", "数据分析", "渠道投放", "活动策划", "社群维护", "品牌曝光",
           "用户反馈", "关键词优化", "账户管理", "转化提升", "口碑传播", "竞品分析", "文案撰写", "视频剪辑"]
TAILS = ["，并定期复盘", "，目标是提升效率", "，需要和产品团队配合", "，还要对结果负责", "，以便获取更多流量", ""]


def sentence(rng: random.Random) -> tuple[str, str]:
    name, role = rng.choice(ROLES)
    objects = "、".join(rng.sample(OBJECTS, rng.randint(2, 5)))
    return f"{name}{rng.choice(VERBS)}{objects}{rng.choice(TAILS)}，第{rng.randint(1, 10**9)}条。", role


def reword(text: str, rng: random.Random) -> str:
    """Change or drop one word of a claim: a near duplicate."""
    words = [w for w in VERBS + OBJECTS if w in text]
    if not words:  # reworded so often that nothing from the vocabulary is left
        return text + "等"
    return text.replace(rng.choice(words), rng.choice(["", *OBJECTS]), 1)


def claims(n: int, rng: random.Random) -> list[Document]:
    made: list[tuple[str, str]] = []
    for _ in range(n):
        r = rng.random()
        if made and r < 0.33:
            made.append(rng.choice(made))
        elif made and r < 0.66:
            text, role = rng.choice(made)
            made.append((reword(text, rng), role))
        else:
            made.append(sentence(rng))
    return [Document(f"p{i:08d}.txt", "text", doc_id=f"d{i}", first_seen="2026-01-01",
                     claims=tuple(Claim(t, roles=(role,)) for t, role in made[i:i + 20]))
            for i in range(0, n, 20)]


def build(path: Path, n: int) -> None:
    db = State(path)
    for d in claims(n, random.Random(n)):
        db.add_document(d.source_path, d, b"\0" * 512, (), [canonical(c.text) for c in d.claims])
    db.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    args = parser.parse_args()
    base = None
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "state.sqlite"
            child = multiprocessing.get_context("fork").Process(target=build, args=(path, n))
            child.start()
            child.join()
            db = State(path)
            start = time.perf_counter()
            merged = dedup.merge(db, DedupConfig())
            distinct = sum(1 for _ in merged.clusters())
            occurrences = sum(1 for _ in merged.occurrence_rows())
            seconds = time.perf_counter() - start
            db.commit()
        per = seconds / n * 1e6
        base = base or per
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>9} claims -> {distinct:>9} distinct, {occurrences} occurrences: {seconds:7.1f} s, "
              f"{per:5.1f} µs/claim ({per / base:.2f}x the first size's cost per claim); peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
