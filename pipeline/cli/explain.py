"""`explain FILE`: each line of a page marked kept or removed (with the rule), the sentences that
are no claims (with the rule, and for the claim model the features that decided), then its claims."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

from ..config import Config
from ..corpus import state, templates
from ..model import Document, Drop, Removal, Stage
from ..run.pages import build_stages, trace, without_templates
from ..stages import claims, read
from ..stages.boilerplate import cut_rules, load_rules
from ..stages.roles import OFF_TOPIC
from ..text import printable


def render(doc: Document, steps: list[tuple[str, Document | Drop]], strip_ids: frozenset[str]) -> list[str]:
    """The explanation as lines of text (the CLI prints them; tests read them).

    The page is shown in reading order: what extraction cut (furniture containers, text outside
    the main run, link lists) interleaved with the extracted lines, each of which is kept, dropped
    by a boilerplate rule or the chrome classifier (with the features that decided), or cut (a strip,
    sentence or noise rule took part of it).
    """
    out = [f"== {doc.source_path}"]
    results = dict(steps)
    extracted, before, after = results.get("extract"), results.get("normalise"), results.get("boilerplate")
    decoded = results.get("decode")
    if isinstance(decoded, Document):
        out.append(f"   format {doc.format}, encoding {decoded.encoding}")
    if isinstance(before, Document):
        title = after.title if isinstance(after, Document) else before.title
        out.append(f"   title {title or '-'}, script {before.script}")
        cuts: dict[int, list[Removal]] = defaultdict(list)
        for r in extracted.removed if isinstance(extracted, Document) else ():
            cuts[r.line].append(r)
        marks: dict[int, list[Removal]] = defaultdict(list)
        for r in after.removed if isinstance(after, Document) else ():
            if r.stage == "boilerplate":
                marks[r.line].append(r)
        for i, line in enumerate(before.lines):
            out.extend(f" - DROP  | {r.text}  [{r.rule}]" for r in cuts.pop(i, ()))
            strips = [r for r in marks.get(i, ()) if r.rule in strip_ids]
            dropped = [r for r in marks.get(i, ()) if r.rule not in strip_ids]
            tags = [f"{r.rule}: {r.text.strip()}" for r in strips] + [f"{r.rule}: {r.why}" if r.why else r.rule
                                                                       for r in dropped]
            mark = " - DROP  " if dropped else " ~ CUT   " if strips else "   keep  "
            out.append(f"{mark}| {line}" + (f"  [{'; '.join(tags)}]" if tags else ""))
        out.extend(f" - DROP  | {r.text}  [{r.rule}]" for i in sorted(cuts) for r in cuts[i])
    learned = results.get(templates.STAGE)
    if isinstance(learned, Document):
        lines = [r for r in learned.removed if r.stage == templates.STAGE]
        out.append(f"== site templates the corpus learned: {len(lines)} line{'s' if len(lines) != 1 else ''} removed")
        out.extend(f" - DROP  | {r.text}  [{r.rule}]" for r in lines)
    last_name, last = steps[-1]
    if isinstance(last, Drop):
        out.append(f"== dropped at {last_name}: {last.reason}{': ' + last.detail if last.detail else ''}")
        return out
    off_topic = [r for r in last.removed if r.rule == OFF_TOPIC]
    if off_topic:
        out.append(f"== not about roles: {len(off_topic)} claims naming a role removed [{off_topic[0].rule}]")
        out.extend(f" - DROP  | {r.text}" for r in off_topic)
    not_claims = [r for r in last.removed if r.stage in NOT_CLAIMS]
    if not_claims:
        out.append(f"== not claims ({len(not_claims)})")
        out.extend(f" - DROP  | {r.text}  [{r.rule}{': ' + r.why if r.why else ''}]" for r in not_claims)
    reason = claims.why_none({r.rule for r in last.removed}, len(last.text.strip()))
    why = "" if last.claims else f": {claims.NO_CLAIMS[reason]}"
    out.append(f"== claims ({len(last.claims)}){why}")
    for c in last.claims:
        section = " > ".join(c.section)
        out.append(f"   [{','.join(c.roles)}] {c.claim_type} | {c.text}" + (f"   ({section})" if section else ""))
    return out


NOT_CLAIMS = ("segment", "claims")  # stages whose removals are sentences judged no claim


COLOURS = ((" - DROP", "31"), (" ~ CUT", "33"), ("   keep", "2"), ("==", "1;36"), ("   [", "32"))  # by line start


def paint(line: str) -> str:
    """A line of the explanation in colour (ANSI): removed red, cut yellow, kept dim, claims green."""
    for start, code in COLOURS:
        if line.startswith(start):
            return f"\x1b[{code}m{line}\x1b[0m"
    return line


def use_colour(choice: str) -> bool:
    """"auto": colour on a terminal, plain when piped or when NO_COLOR is set."""
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def with_templates(steps: list[tuple[str, Document | Drop]], rules: templates.Rules, cfg: Config,
                   stages: list[tuple[str, Stage]]) -> list[tuple[str, Document | Drop]]:
    """The steps, then the page without the site template lines a corpus learned (as ingest takes
    them out once the night's pages are in), when it has any."""
    last = steps[-1][1]
    if not rules or isinstance(last, Drop):
        return steps
    cleaned = without_templates(last, templates.keys_of(last, cfg.templates), rules, stages)
    return steps if cleaned is None else [*steps, (templates.STAGE, cleaned)]


def main(path: Path, cfg: Config, colour: str = "auto", corpus: Path | None = None) -> int:
    if not path.is_file():
        print(f"error: not a file: {path}", file=sys.stderr)
        return 2
    if corpus is not None and not (corpus / state.FILE).is_file():
        print(f"error: no corpus state in {corpus} ({state.FILE} missing)", file=sys.stderr)
        return 2
    stages = build_stages(cfg)
    strip_ids = cut_rules(load_rules(cfg.data_file(cfg.boilerplate.rules)))
    rules = templates.Rules.stored(corpus / state.FILE, cfg.templates) if corpus else templates.Rules(set(), set())
    status = 0
    for item in read.read_path(path, read.corpus_name(path.name), cfg.read):
        if isinstance(item, read.InputEvent):
            print(printable(f"== {item.path}: {item.outcome}: {item.reason}"))
            status = 1 if item.outcome == "failed" else status
            continue
        lines = render(item, with_templates(trace(item, stages), rules, cfg, stages), strip_ids)
        print("\n".join(map(paint, lines) if use_colour(colour) else lines))
    return status
