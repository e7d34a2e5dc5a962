"""`export [DIR]`: the corpus's claims as JSON lines on stdout (`> claims.jsonl`, `| jq`)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..output.write import claims_jsonl


def main(folder: Path) -> int:
    claims = folder / "claims.parquet"
    if not (folder / "manifest.json").is_file() or not claims.is_file():
        print(f"error: no corpus in {folder} (manifest.json or claims.parquet missing)", file=sys.stderr)
        return 2
    for line in claims_jsonl(claims):
        sys.stdout.write(line + "\n")
    return 0
