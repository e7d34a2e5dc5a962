"""`explain FILE`: each line of a page marked kept or removed (with the rule), then its claims."""

from __future__ import annotations

import sys
from pathlib import Path

from . import read
from .config import Config
from .model import Document, Drop
from .runner import build_stages, trace


def render(doc: Document, steps: list[tuple[str, Document | Drop]]) -> list[str]:
    """The explanation as lines of text (the CLI prints them; tests read them)."""
    out = [f"== {doc.source_path}"]
    results = dict(steps)
    before = results.get("normalise")
    after = results.get("boilerplate")
    decoded = results.get("decode")
    if isinstance(decoded, Document):
        out.append(f"   format {doc.format}, encoding {decoded.encoding}")
    if isinstance(before, Document):
        out.append(f"   title {before.title or '-'}, script {before.script}")
        removed = {r.line: r for r in after.removed if r.stage == "boilerplate"} if isinstance(after, Document) \
            else {}
        for i, line in enumerate(before.lines):
            r = removed.get(i)
            if r is None:
                out.append(f"   keep  | {line}")
            elif r.text == line:
                out.append(f" - DROP  | {line}  [{r.rule}]")
            else:
                out.append(f" ~ CUT   | {line}  [{r.rule}: {r.text}]")
    last_name, last = steps[-1]
    if isinstance(last, Drop):
        out.append(f"== dropped at {last_name}: {last.reason}{': ' + last.detail if last.detail else ''}")
        return out
    out.append(f"== claims ({len(last.claims)})")
    for c in last.claims:
        section = " > ".join(c.section)
        out.append(f"   [{','.join(c.roles)}] {c.claim_type} | {c.text}" + (f"   ({section})" if section else ""))
    return out


def main(path: Path, cfg: Config) -> int:
    if not path.is_file():
        print(f"error: not a file: {path}", file=sys.stderr)
        return 2
    stages = build_stages(cfg)
    status = 0
    for item in read.read_path(path, path.name, cfg.read):
        if isinstance(item, read.InputEvent):
            print(f"== {item.path}: {item.outcome}: {item.reason}")
            status = 1 if item.outcome == "failed" else status
            continue
        print("\n".join(render(item, trace(item, stages))))
    return status
