"""Fit the chrome line classifier (`pipeline/data/chrome_model.toml`) on the shared samples.

Lines are labelled from the gold files, never copied: a line of a page's normalised text is chrome
when a `must_drop` string makes up most of it, article when it holds a `must_keep` string or a
labelled sentence (headings and list items are article text too). Only lines the model judges
(at most `max_chars`) are used. The fit is a plain
L2-regularised logistic regression; before it, every site's pages are held out in turn (five
folds by site) and the held-out figures are written into the model file, so its header says how
the model does on sites it did not see.

    .venv/bin/python scripts/fit_chrome.py ../shared            # writes pipeline/data/chrome_model.toml
    .venv/bin/python scripts/fit_chrome.py ../shared --check    # prints the held-out figures only
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import fitting
import numpy as np

from pipeline.stages import chrome
from pipeline.text import canonical

OUT = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "chrome_model.toml"
MOST = 0.5  # a must_drop string that is at least this share of a line makes it chrome


def normalised(shared: Path) -> Iterator[tuple[tuple[str, ...], dict, str]]:
    """Each gold page's lines as the boilerplate stage sees them (decode, extract, normalise)."""
    for doc, gold, site in fitting.pages(shared, until="normalise"):
        yield doc.lines, gold, site


def label(line: str, drops: list[str], keeps: list[str], article_text: str) -> int | None:
    """1 for chrome, 0 for article (a kept string, or a piece of the page's labelled sentences:
    headings and list items too), None when the gold does not say or says both."""
    key = canonical(line)
    if len(key) < 2:
        return None
    chrome_ = any(d and d in key and len(d) >= MOST * len(key) for d in drops)
    article = any(k and k in key for k in keeps) or (len(key) >= 2 and key in article_text)
    if chrome_ == article:
        return None  # neither, or both: no label
    return int(chrome_)


def dataset(shared: Path, model: chrome.Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, groups = [], [], []
    for lines, g, site in normalised(shared):
        drops = [canonical(s) for s in g["must_drop"] if g.get("families", {}).get(s) != "annotation"]
        sentences = [canonical(s["text"]) for s in g.get("sentences", [])
                     if s.get("kind") not in ("boilerplate", "meta")]
        keeps = [canonical(s) for s in g["must_keep"]] + sentences
        article_text = "\n".join(sentences)
        for line in lines:
            if len(line) > model.max_chars:
                continue
            y = label(line, drops, keeps, article_text)
            if y is not None:
                xs.append(chrome.features(line))
                ys.append(y)
                groups.append(site)
    return np.array(xs), np.array(ys, dtype=float), np.array(groups)


def scores(x: np.ndarray, y: np.ndarray, groups: np.ndarray, sure: float) -> dict[str, float]:
    """Precision and recall of `p >= sure` on chrome lines, each site scored by a fit without it."""
    hit = fitting.held_out(x, y, groups) >= sure
    tp = float((hit & (y == 1)).sum())
    return {"lines": len(y), "chrome": int(y.sum()), "sites": len(np.unique(groups)),
            "precision": tp / max(hit.sum(), 1), "recall": tp / max(y.sum(), 1),
            "article_lines_flagged": int((hit & (y == 0)).sum())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", type=Path, help="the shared folder (samples/ and eval/)")
    ap.add_argument("--check", action="store_true", help="print the held-out figures, write nothing")
    args = ap.parse_args(argv)
    model = chrome.Model(weights=(0.0,) * len(chrome.FEATURES))
    x, y, groups = dataset(args.shared, model)
    figures = scores(x, y, groups, model.sure)
    print(json.dumps(figures))
    if args.check:
        return 0
    w = fitting.fit(x, y)
    fitting.write_model(OUT, [
        "The chrome line classifier's weights (pipeline/stages/chrome.py), made by scripts/fit_chrome.py from the",
        "shared samples' gold labels (no page text is kept here). Held out by site, five folds:",
        f"{figures['lines']} labelled lines ({figures['chrome']} chrome) from {figures['sites']} sites; at p >= "
        f"{model.sure}: precision {figures['precision']:.3f}, recall {figures['recall']:.3f}, "
        f"{figures['article_lines_flagged']} article lines flagged.",
    ], chrome.FEATURES, w, ("context", {"sure": model.sure, "lean": model.lean, "max_chars": model.max_chars,
                                        "short_chars": model.short_chars}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
