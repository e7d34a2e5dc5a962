"""Fit the claim model (`pipeline/data/claim_model.toml`) on the shared samples' labelled sentences.

The candidates are what the pipeline makes of each gold page up to the roles stage. A candidate is
labelled by the gold sentence it matches the way `eval/score.py claims` matches (character-bigram F1
of at least 0.7 on the canonical keys): a claim or not; a candidate that lies inside a gold sentence
without matching one is a fragment (not a claim); the rest have no label. No page text is kept: the
model file holds only weights and the held-out figures.

The bar (`keep`) is the probability that keeps at least `--recall` of the true claims among the
candidates, held out by site; the header quotes precision and recall there, on sites the fit did
not see.

    .venv/bin/python scripts/fit_claims.py ../shared            # writes pipeline/data/claim_model.toml
    .venv/bin/python scripts/fit_claims.py ../shared --check    # prints the held-out figures only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import fitting
import numpy as np

from pipeline.config import Config
from pipeline.stages import claims
from pipeline.text import canonical

OUT = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "claim_model.toml"
MATCH_F1 = 0.7  # as eval/score.py


def bigrams(key: str) -> set[str]:
    return {key[i:i + 2] for i in range(len(key) - 1)} or {key}


def f1(a: set[str], b: set[str]) -> float:
    common = len(a & b)
    return 2 * common / (len(a) + len(b)) if common else 0.0


def label(text: str, gold: list[tuple[str, set[str], bool]]) -> int | None:
    """1 for a claim, 0 for a sentence that is not one (or a piece of a sentence), None when unknown."""
    key = canonical(text)
    grams = bigrams(key)
    best = max(gold, key=lambda g: f1(grams, g[1]), default=None)
    if best is not None and f1(grams, best[1]) >= MATCH_F1:
        return int(best[2])
    return 0 if key and any(key in k for k, _, _ in gold) else None


def dataset(shared: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cfg = Config()
    rules = claims.load_rules(cfg.data_file(cfg.claims.rules))
    xs, ys, groups = [], [], []
    for doc, g, site in fitting.pages(shared, until="roles", cfg=cfg):
        if "sentences" not in g:
            continue
        gold = [(k, bigrams(k), bool(s.get("claim"))) for s in g["sentences"] if (k := canonical(s["text"]))]
        for i, (claim, x) in enumerate(zip(doc.claims, claims.page_features(doc), strict=True)):
            if claims.ruled(doc.claims, i, cfg.claims.cut_min_chars, rules):
                continue  # a rule takes it before the model
            y = label(claim.text, gold)
            if y is not None:
                xs.append(x)
                ys.append(y)
                groups.append(site)
    return np.array(xs), np.array(ys, dtype=float), np.array(groups)


def figures(p: np.ndarray, y: np.ndarray, keep: float) -> dict[str, float]:
    hit = p >= keep
    tp = float((hit & (y == 1)).sum())
    return {"precision": tp / max(hit.sum(), 1), "recall": tp / max(y.sum(), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", type=Path, help="the shared folder (samples/ and eval/)")
    ap.add_argument("--recall", type=float, default=0.97, help="share of true candidates the bar keeps (held out)")
    ap.add_argument("--check", action="store_true", help="print the held-out figures, write nothing")
    args = ap.parse_args(argv)
    x, y, groups = dataset(args.shared)
    p = fitting.held_out(x, y, groups)
    keep = float(np.quantile(p[y == 1], 1 - args.recall))
    held = figures(p, y, keep)
    base = figures(np.ones(len(y)), y, 0.5)
    summary = {"candidates": len(y), "claims": int(y.sum()), "sites": len(np.unique(groups)), "keep": round(keep, 3),
               "precision_before": base["precision"], **held}
    print(json.dumps(summary))
    if args.check:
        return 0
    w = fitting.fit(x, y)
    fitting.write_model(OUT, [
        "The claim model's weights (pipeline/stages/claims.py), made by scripts/fit_claims.py from the shared",
        "samples' labelled sentences (no page text is kept here). Held out by site, five folds:",
        f"{summary['candidates']} labelled candidates ({summary['claims']} claims) from {summary['sites']} sites; "
        f"all of them: precision {base['precision']:.3f};",
        f"at p >= {keep:.3f}: precision {held['precision']:.3f}, recall {held['recall']:.3f}.",
    ], claims.FEATURES, w, ("threshold", {"keep": f"{keep:.3f}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
