"""`stats [DIR]`: the key figures of an output folder as terminal tables (the figures of report.html)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..output.report import figures, stats_lines


def main(folder: Path) -> int:
    if not (folder / "manifest.json").is_file():
        print(f"error: no corpus in {folder} (manifest.json missing)", file=sys.stderr)
        return 2
    print("\n".join(stats_lines(figures(folder))))
    return 0
