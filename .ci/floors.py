"""Check the scorecard against the floors in `.ci/floors.toml`; exit 1 when a figure falls below one.

    python .ci/floors.py SET=SCORE_OUTPUT ...    e.g. pages.rules=/tmp/pages-rules.txt

Each SCORE_OUTPUT is what `../shared/eval/score.py` printed; its last line is the figure line. The
figures read from it are named SET.KIND.NAME (`pages.claims.precision`); `[min]` floors must be
reached, `[max]` ceilings (leaks, markup) must not be passed. A figure better than its floor is
reported, so the floor can be moved up to it in the same change: floors go up, never silently down.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOORS = Path(__file__).with_name("floors.toml")
PATTERNS = {
    "rules": {"claims": r"claims (\d+)/", "leaks": r"leaks (\d+)/", "kept": r"kept (\d+)/",
              "heading_claims": r"heading claims (\d+)", "repeats": r"repeats (\d+)"},
    "claims": {"precision": r"precision (\d+)/(\d+)", "recall": r"recall (\d+)/(\d+)",
               "roles": r"roles right (\d+)/(\d+)", "types": r"type right (\d+)/(\d+)", "markup": r"markup (\d+)"},
    "extract": {"mean_f1": r"mean F1 ([\d.]+)"},
}


def figures(name: str, output: str) -> dict[str, float]:
    kind = name.split(".")[-1]
    last = output.strip().splitlines()[-1] if output.strip() else ""
    out = {}
    for figure, pattern in PATTERNS[kind].items():
        m = re.search(pattern, last)
        if m is None:
            raise SystemExit(f"floors: no {figure} in the {name} score line: {last!r}")
        out[f"{name}.{figure}"] = int(m[1]) / int(m[2]) if m.lastindex == 2 else float(m[1])
    return out


def main(argv: list[str]) -> int:
    floors = tomllib.loads(FLOORS.read_text(encoding="utf-8"))
    got: dict[str, float] = {}
    for arg in argv:
        name, _, path = arg.partition("=")
        got.update(figures(name, Path(path).read_text(encoding="utf-8")))
    failed = 0
    for bound, table in (("min", floors.get("min", {})), ("max", floors.get("max", {}))):
        for key, floor in table.items():
            if key not in got:
                print(f"floors: {key} was not measured")
                failed += 1
                continue
            value = got[key]
            worse = value < floor - 1e-9 if bound == "min" else value > floor + 1e-9
            better = value > floor + 5e-4 if bound == "min" else value < floor - 1e-9
            verdict = "BELOW FLOOR" if worse else "better: move the floor to it" if better else "ok"
            print(f"floors: {key} {value:.4g} ({bound} {floor:g}) {verdict}")
            failed += worse
    print(f"floors: {failed} figure(s) below their floors" if failed else "floors: every figure holds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
