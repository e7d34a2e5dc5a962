"""Build a large RAW_DIR from the shared samples, replicated with variations so dedup has real work.

    python bench/make_input.py OUT_DIR --pages 20000 [--shared ../shared] [--seed 1]

Each page is a copy of one of the 50 shared pages (45 html-dev pages in their own encodings, 5 seed
dumps), made different so that it is a new input: a copy number in the markup, and for the seed
dumps (the pages that give claims) one of: a light rewording (a clause dropped or repeated, a
sentence end changed), Traditional script, pinyin annotations, or an untouched republication. So
the corpus has exact duplicates, near duplicates and cross-script duplicates to merge.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from opencc import OpenCC

CLAUSE = re.compile(r"([^，。！？；\n]{4,30})([，；])")
S2T = OpenCC("s2t")


def vary_text(text: str, rng: random.Random, n: int) -> str:
    """One variant of a seed dump: reworded, Traditional, pinyin-annotated or republished as is."""
    kind = n % 4
    if kind == 0:  # drop one clause in a few sentences, repeat another
        def edit(m: re.Match[str]) -> str:
            r = rng.random()
            return "" if r < 0.04 else m.group(0) * 2 if r < 0.06 else m.group(0)
        text = CLAUSE.sub(edit, text)
    elif kind == 1:
        text = S2T.convert(text)
    elif kind == 2:
        text = text.replace("产品", "产(chǎn)品").replace("运营", "运(yùn)营")
    return f"{text}\n\n第{n}版\n"


def vary_html(data: bytes, n: int) -> bytes:
    """A copy of an html page: the same bytes plus a copy number (ASCII, safe in any encoding)."""
    return data.replace(b"</body>", f"<p>copy {n}</p></body>".encode(), 1) + f"<!-- copy {n} -->".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    html = sorted((args.shared / "samples" / "html-dev" / "original").iterdir())
    seeds = sorted((args.shared / "samples" / "seeds").iterdir())
    sources = [(p, p.read_bytes()) for p in html + seeds]
    seed_texts = {p: p.read_text(encoding="utf-8") for p in seeds}
    for n in range(args.pages):
        path, data = sources[n % len(sources)]
        folder = args.out / f"{n // 1000:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        if path in seed_texts:
            (folder / f"{n}.txt").write_text(vary_text(seed_texts[path], rng, n // len(sources)), encoding="utf-8")
        else:
            (folder / f"{n}.html").write_bytes(vary_html(data, n))
    print(f"{args.pages} pages in {args.out}")


if __name__ == "__main__":
    main()
