"""What the model-fitting scripts share: the shared samples' pages and sites, folds held out by site,
and a plain L2-regularised logistic regression.

The figures a fitted model quotes are from fits that did not see the site being scored: every site's
pages are held out in turn (five folds, chosen by a stable hash of the site name, so every run makes
the same folds).
"""

from __future__ import annotations

import csv
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.config import Config
from pipeline.model import Document
from pipeline.run.pages import build_stages
from pipeline.stages.read import read_inputs

SETS = (("samples/pages-dev", "eval/pages_dev_gold.json"), ("samples/seeds", "eval/seeds_gold.json"))
FOLDS = 5
L2 = 1e-3
STEPS = 50


def sites(shared: Path) -> dict[str, str]:
    """Each pages-dev file's site (a seed is its own site)."""
    with open(shared / "samples" / "pages-dev.manifest.tsv", encoding="utf-8") as fh:
        return {row["file"]: row["site"].removeprefix("www.") for row in csv.DictReader(fh, delimiter="\t")}


def pages(shared: Path, until: str, cfg: Config | None = None) -> Iterator[tuple[Document, dict, str]]:
    """(document after the stages up to and including `until`, its gold entry, its site) for every
    gold page of the shared samples."""
    cfg = cfg or Config()
    stages = build_stages(cfg, until)
    where = sites(shared)
    for folder, gold_file in SETS:
        gold = json.loads((shared / gold_file).read_text(encoding="utf-8"))["docs"]
        for doc in read_inputs(shared / folder, cfg.read):
            if not isinstance(doc, Document):
                continue
            name = Path(doc.source_path).name
            if name not in gold:
                continue
            for _, stage in stages:
                doc = stage(doc)  # type: ignore[assignment]
                if not isinstance(doc, Document):
                    break
            else:
                yield doc, gold[name], where.get(name, name)


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression by Newton's method (a few steps for a few dozen features), L2 on all but
    the bias; the two classes weigh the same."""
    w = np.zeros(x.shape[1])
    balance = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    ridge = L2 * np.diag(np.r_[0.0, np.ones(x.shape[1] - 1)])
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ ((p - y) * balance) / len(y) + ridge @ w
        hess = (x * (p * (1 - p) * balance)[:, None]).T @ x / len(y) + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def held_out(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's probability from a fit that did not see its site."""
    which = folds(groups)
    p = np.zeros(len(y))
    for k in range(FOLDS):
        w = fit(x[which != k], y[which != k])
        p[which == k] = 1 / (1 + np.exp(-x[which == k] @ w))
    return p


def folds(groups: np.ndarray) -> np.ndarray:
    """Each row's fold: the sites in a stable shuffle (str hash() changes with every process)."""
    names = np.unique(groups)
    fold = {name: i % FOLDS for i, name in enumerate(sorted(names, key=lambda n: zlib.crc32(n.encode("utf-8"))))}
    return np.array([fold[g] for g in groups])


def write_model(out: Path, header: list[str], names: tuple[str, ...], w: np.ndarray,
                settings: tuple[str, dict[str, object]]) -> None:
    """A model file: comment lines, the weights by feature name, then one section of settings."""
    section, values = settings
    lines = [*(f"# {line}" for line in header), "", "[weights]",
             *(f"{name} = {weight:.3f}" for name, weight in zip(names, w, strict=True)),
             "", f"[{section}]", *(f"{key} = {value}" for key, value in values.items())]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
