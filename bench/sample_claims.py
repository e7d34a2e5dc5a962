"""Draw claims at random from one or more output folders, as a Markdown table for a by-hand check.

    python bench/sample_claims.py OUT_DIR [OUT_DIR ...] [--n 20] [--seed 4]

Precision of roles and types cannot be scored without gold; a person reads the drawn rows and
counts the correct ones. The draw is seeded, so a table can be re-created and re-checked.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="+", type=Path)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    claims = pd.concat([pd.read_parquet(out / "claims.parquet").assign(run=out.name) for out in args.out])
    drawn = claims.sample(min(args.n, len(claims)), random_state=args.seed)
    print(f"{len(drawn)} of {len(claims)} claims from {', '.join(str(o) for o in args.out)} (seed {args.seed})\n")
    print("| # | claim | section | roles | type |")
    print("|---|---|---|---|---|")
    for i, row in enumerate(drawn.itertuples(), 1):
        cells = (row.text, (row.section or "").split(" > ")[-1], ", ".join(row.roles), row.claim_type)
        print(f"| {i} | " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")


if __name__ == "__main__":
    main()
