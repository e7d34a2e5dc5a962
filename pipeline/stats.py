"""`stats [DIR]`: the key figures of an output folder as a terminal table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def table(title: str, counts: pd.Series) -> list[str]:
    width = max((len(str(k)) for k in counts.index), default=0)
    return [title] + [f"  {k!s:<{width}}  {v:>7}" for k, v in counts.items()]


def main(folder: Path) -> int:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        print(f"error: no corpus in {folder} (manifest.json missing)", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    docs = pd.read_parquet(folder / "documents.parquet", columns=["site", "format", "script"])
    claims = pd.read_parquet(folder / "claims.parquet", columns=["roles", "claim_type", "support"])
    removed = pd.read_parquet(folder / "removed.parquet", columns=["rule"])
    lines = [f"run {manifest['run_id']}: {manifest['counts']['documents']} documents, "
             f"{manifest['counts']['claims']} claims, {manifest['seconds']}s"]
    lines += table("inputs", pd.Series(manifest["counts"]["inputs"]))
    lines += table("documents by site", docs["site"].fillna("(none)").value_counts().head(15))
    lines += table("documents by script", docs["script"].fillna("(none)").value_counts())
    lines += table("claims by role", claims["roles"].explode().value_counts())
    lines += table("claims by type", claims["claim_type"].value_counts())
    lines += table("removed by rule family", removed["rule"].str.split(".").str[0].value_counts())
    reasons = manifest["counts"].get("drop_reasons") or {}
    if reasons:
        lines += table("drop and failure reasons", pd.Series(reasons))
    print("\n".join(lines))
    return 0
