"""The run as a person reads it: key figures of an output folder, as `report.html` and as `stats`.

`figures` reads the corpus files a batch at a time (pyarrow), so it costs little memory on a large
corpus. `sections` turns the figures into titled tables, each heading saying whether it counts
tonight's run or all nights of the corpus, every cut list saying how many rows it left out; `html`
renders the sections as one self-contained page (inline CSS and SVG charts, nothing fetched) and
`stats_lines` as terminal tables. Both render the same sections: there is one list of them.
"""

from __future__ import annotations

import heapq
import html as html_lib
import json
import os
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import PAGE_OUTCOMES, pages_in
from ..stages.claims import NO_CLAIMS, why_none
from .write import REPORT, epoch_seconds, pydict, row_groups

TOP = 12  # rows per table, bars per chart
EXAMPLES = 2  # removed texts shown per rule
FAILURES_SHOWN = 200  # failed inputs listed (the manifest lists every one)
TONIGHT, ALL_NIGHTS = "tonight", "all nights"
KEPT_BUCKETS = 10  # the share of a page's text kept, in tenths


@dataclass
class Figures:
    """What a run did and what the corpus holds, ready to show."""

    manifest: dict[str, Any]
    role_names: dict[str, str] = field(default_factory=dict)  # role id -> the lexicon's name
    pages_by: dict[str, Counter[str]] = field(default_factory=dict)  # site, format, encoding, script
    read_tonight: Counter[str] = field(default_factory=Counter)  # site -> pages ingested tonight
    removed_by_site: Counter[tuple[str, str]] = field(default_factory=Counter)  # (family, site)
    removed_examples: dict[str, list[str]] = field(default_factory=dict)  # rule -> texts
    removed_by_rule: Counter[str] = field(default_factory=Counter)
    kept_share: list[int] = field(default_factory=lambda: [0] * KEPT_BUCKETS)  # pages by tenth of text kept
    kept_by_site: dict[str, list[float]] = field(default_factory=dict)  # site -> each page's share kept
    no_claims: Counter[str] = field(default_factory=Counter)  # NO_CLAIMS key -> pages without claims
    no_claims_tonight: Counter[str] = field(default_factory=Counter)
    no_claims_pages: list[tuple[str, str, str]] = field(default_factory=list)  # path, title, reason (first TOP)
    claims_by_role: Counter[str] = field(default_factory=Counter)
    claims_by_type: Counter[str] = field(default_factory=Counter)
    supported: list[tuple[int, str, list[str], str]] = field(default_factory=list)  # support, text, roles, type
    clusters: list[tuple[str, int, int, list[str]]] = field(default_factory=list)  # text, support, wordings, some
    failures: list[tuple[str, str]] = field(default_factory=list)  # path, reason

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest.get("counts", {})

    @property
    def change(self) -> dict[str, Any]:
        return self.manifest.get("change", {})

    @property
    def removed_by_family(self) -> Counter[str]:
        """Removals by the part of the rule id before the dot."""
        families: Counter[str] = Counter()
        for rule, n in self.removed_by_rule.items():
            families[rule.split(".")[0]] += n
        return families

    def role(self, role_id: str) -> str:
        """A role as a reader knows it, with the id the corpus files use."""
        name = self.role_names.get(role_id)
        return f"{name} ({role_id})" if name and name != role_id else role_id


def _batches(path: Path, columns: list[str]) -> Iterator[dict[str, list[Any]]]:
    if not path.is_file():
        return
    for group in row_groups(path, columns):
        yield pydict(group)


def change(previous: Path, current: Path) -> dict[str, Any]:
    """Claims added since the previous corpus, claims gaining support, and claims gone (no page gives
    them any more): the counts and the biggest of each."""
    before: dict[str, int] = {}
    for b in _batches(previous / "claims.parquet", ["claim_id", "support"]):
        before.update(zip(b["claim_id"], b["support"], strict=True))
    added: list[tuple[str, int]] = []
    gained: list[tuple[str, int, int]] = []
    n_added = n_gained = 0
    for b in _batches(current / "claims.parquet", ["claim_id", "text", "support"]):
        for cid, text, support in zip(b["claim_id"], b["text"], b["support"], strict=True):
            was = before.pop(cid, None)  # what is left in `before` at the end is gone
            if was is None:
                n_added += 1
                added.append((text, support))
            elif support > was:
                n_gained += 1
                gained.append((text, was, support))
        added = sorted(added, key=lambda a: -a[1])[:TOP]
        gained = sorted(gained, key=lambda g: g[1] - g[2])[:TOP]
    gone_ids = before.keys()
    gone: list[tuple[str, int]] = []
    for b in _batches(previous / "claims.parquet", ["claim_id", "text", "support"]) if gone_ids else ():
        gone += [(t, s) for cid, t, s in zip(b["claim_id"], b["text"], b["support"], strict=True) if cid in gone_ids]
        gone = sorted(gone, key=lambda g: -g[1])[:TOP]
    return {"claims_added": n_added, "claims_gaining_support": n_gained, "claims_gone": len(gone_ids),
            "added": added, "gained": gained, "gone": gone}


def figures(folder: Path, manifest: dict[str, Any] | None = None) -> Figures:
    """The figures of the output folder (its manifest unless one is given)."""
    if manifest is None:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    fig = Figures(manifest)
    for b in _batches(folder / "roles.parquet", ["role_id", "name"]):
        fig.role_names.update(zip(b["role_id"], b["name"], strict=True))
    _pages(fig, folder)
    for b in _batches(folder / "claims.parquet", ["text", "roles", "claim_type", "support"]):
        for roles in b["roles"]:
            fig.claims_by_role.update(roles)
        fig.claims_by_type.update(b["claim_type"])
        fig.supported = heapq.nlargest(TOP, [*fig.supported, *zip(b["support"], b["text"], b["roles"],
                                                                   b["claim_type"], strict=True)],
                                       key=lambda s: s[0])
    fig.clusters = _biggest_clusters(folder)
    fig.failures = [(i["path"], i.get("reason", "")) for i in manifest.get("inputs", []) if i["outcome"] == "failed"]
    return fig


@dataclass
class _Removals:
    """What was removed from one page: its rules, and how many characters."""

    rules: Counter[str] = field(default_factory=Counter)
    chars: int = 0


def _removals(folder: Path, fig: Figures) -> Iterator[tuple[str, _Removals]]:
    """Each page's removals, page by page (removed.parquet is written page by page); the examples of
    each rule are gathered on the way."""
    current, page = "", _Removals()
    for b in _batches(folder / "removed.parquet", ["doc_id", "rule", "text"]):
        _examples(fig.removed_examples, b["rule"], b["text"])
        for doc_id, rule, text in zip(b["doc_id"], b["rule"], b["text"], strict=True):
            if doc_id != current:
                if current:
                    yield current, page
                current, page = doc_id, _Removals()
            page.rules[rule] += 1
            page.chars += len(text)
    if current:
        yield current, page


def _pages(fig: Figures, folder: Path) -> None:
    """The page figures, from documents.parquet read alongside each page's removals and the pages that
    give claims. Pages and removals are both written in path order, so they are joined as they are read,
    never held all at once."""
    with_claims: set[str] = set()
    for b in _batches(folder / "claim_occurrences.parquet", ["doc_id"]):
        with_claims.update(b["doc_id"])
    started = epoch_seconds(fig.manifest.get("started"))
    removals = _removals(folder, fig)
    ahead = next(removals, None)
    for name in ("site", "format", "encoding", "script"):
        fig.pages_by[name] = Counter()
    columns = ["doc_id", "source_path", "title", "chars_kept", "site", "format", "encoding", "script", "last_seen"]
    for b in _batches(folder / "documents.parquet", columns):  # not the text: its length is chars_kept
        for doc_id, path, title, kept, site, fmt, encoding, script, last_seen in zip(*(b[c] for c in columns),
                                                                                     strict=True):
            site = site or "(no URL)"
            for name, value in (("site", site), ("format", fmt), ("encoding", encoding), ("script", script)):
                fig.pages_by[name][value or "(unknown)"] += 1
            tonight = started is not None and last_seen == started
            if tonight:
                fig.read_tonight[site] += 1
            page = _Removals()
            if ahead is not None and ahead[0] == doc_id:
                page = ahead[1]
                ahead = next(removals, None)
            for rule, n in page.rules.items():
                fig.removed_by_rule[rule] += n
                fig.removed_by_site[(rule.split(".")[0], site)] += n
            if kept + page.chars:
                share = kept / (kept + page.chars)
                fig.kept_share[min(int(share * KEPT_BUCKETS), KEPT_BUCKETS - 1)] += 1
                fig.kept_by_site.setdefault(site, []).append(share)
            if doc_id not in with_claims:
                reason = why_none(page.rules.keys(), kept)
                fig.no_claims[reason] += 1
                fig.no_claims_tonight[reason] += tonight
                if len(fig.no_claims_pages) < TOP:
                    fig.no_claims_pages.append((path, title or "", reason))
    for _, page in [ahead, *removals] if ahead is not None else ():  # pages not in path order after all
        for rule, n in page.rules.items():
            fig.removed_by_rule[rule] += n
            fig.removed_by_site[(rule.split(".")[0], "(unknown)")] += n


def _examples(shown_by_rule: dict[str, list[str]], rules: list[str], texts: list[str]) -> None:
    """The first EXAMPLES distinct texts of each rule, in order; rows are looked at only while a rule
    among them still wants one (after the first row groups, hardly ever)."""
    wanted = {rule for rule in dict.fromkeys(rules) if len(shown_by_rule.setdefault(rule, [])) < EXAMPLES}
    for rule, text in zip(rules, texts, strict=True):
        if not wanted:
            break
        if rule in wanted and text.strip() and text not in (shown := shown_by_rule[rule]):
            shown.append(text.strip()[:80])
            if len(shown) == EXAMPLES:
                wanted.discard(rule)


def _biggest_clusters(folder: Path) -> list[tuple[str, int, int, list[str]]]:
    """The near-duplicate clusters with the most distinct wordings (then support)."""
    merged: dict[str, set[str]] = {}  # only claims with more than one wording
    current, texts = "", set[str]()
    for b in _batches(folder / "claim_occurrences.parquet", ["claim_id", "text"]):
        for cid, text in zip(b["claim_id"], b["text"], strict=True):
            if cid != current:  # occurrences are written claim by claim: one claim's set at a time
                if len(texts) > 1:
                    merged[current] = texts
                current, texts = cid, set()
            texts.add(text)
    if len(texts) > 1:
        merged[current] = texts
    rows: list[tuple[str, int, int, list[str]]] = []
    for b in _batches(folder / "claims.parquet", ["claim_id", "text", "support"]):
        for cid, text, support in zip(b["claim_id"], b["text"], b["support"], strict=True):
            if cid in merged:
                others = sorted(t for t in merged[cid] if t != text)[:2]
                rows.append((text, support, len(merged[cid]), others))
    return sorted(rows, key=lambda r: (-r[2], -r[1], r[0]))


# --- the sections, as both renderings show them ------------------------------------------------


@dataclass(frozen=True)
class Table:
    """Rows under a title. `total` is how many rows there are when only the first are given; a
    rendering shows `TOP` at most and says how many more there are. `kind`: "table", "bars" (the first
    column charted by the last) or "tiles" (label, figure)."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    kind: str = "table"
    total: int | None = None
    limit: int = TOP

    @property
    def shown(self) -> list[tuple[Any, ...]]:
        return self.rows[: self.limit]

    @property
    def more(self) -> int:
        return max(len(self.rows) if self.total is None else self.total, len(self.rows)) - len(self.shown)


@dataclass(frozen=True)
class Section:
    title: str
    scope: str  # TONIGHT, ALL_NIGHTS, or the nights a trend covers
    tables: list[Table]
    alert: bool = False  # shown first, in red

    @property
    def heading(self) -> str:
        return f"{self.title} — {self.scope}"


def _percent(share: float) -> str:
    return f"{share:.0%}"


def sections(fig: Figures) -> list[Section]:
    """Every section of the report and of `stats`, in order."""
    c, m, ch = fig.counts, fig.manifest, fig.change
    inputs = c.get("inputs", {})
    out: list[Section] = []
    if fig.failures:
        n = len(fig.failures)
        out.append(Section(f"{n:,} input{'s' if n != 1 else ''} failed", TONIGHT, [
            Table("failed inputs", ("input", "reason"), fig.failures, limit=FAILURES_SHOWN)], alert=True))
    out.append(Section("The night", TONIGHT, [Table("tonight", ("figure", "n"), [
        ("pages in", pages_in(inputs)), *((k, inputs.get(k, 0)) for k in PAGE_OUTCOMES),
        ("other files skipped", inputs.get("skipped", 0)), ("claims added", c.get("claims_added", 0)),
        ("claims gaining support", c.get("claims_gaining_support", 0)), ("claims gone", c.get("claims_gone", 0)),
        ("seconds", m.get("seconds", 0))], kind="tiles")]))
    out.append(Section("The corpus", ALL_NIGHTS, [Table("all nights", ("figure", "n"), [
        ("documents", c.get("documents", 0)), ("republished copies (duplicate_of)", c.get("duplicate_documents", 0)),
        ("claims", c.get("claims", 0)), ("claim occurrences", c.get("claim_occurrences", 0))], kind="tiles")]))
    out.append(Section("What came in", TONIGHT, [
        Table("inputs by outcome", ("outcome", "inputs"), sorted(inputs.items(), key=lambda kv: -kv[1]), "bars"),
        Table("pages ingested by site", ("site", "pages"), fig.read_tonight.most_common(), "bars"),
        Table("dropped and failed, by reason", ("reason", "inputs"), list(c.get("drop_reasons", {}).items()), "bars"),
    ]))
    out.append(Section("The corpus's pages", ALL_NIGHTS, [
        Table(f"pages by {name}", (name, "pages"), counter.most_common(), "bars")
        for name, counter in fig.pages_by.items()]))
    least = sorted(((site, len(s), statistics.median(s)) for site, s in fig.kept_by_site.items()),
                   key=lambda r: (r[2], -r[1], r[0]))
    out.append(Section("Text kept per page", ALL_NIGHTS, [
        Table("pages by share of their text kept", ("share kept", "pages"),
              [(f"{10 * i}–{10 * i + 9}%" if i < KEPT_BUCKETS - 1 else "90–100%", n)
               for i, n in enumerate(fig.kept_share)], "bars"),
        Table("sites keeping least (median share of a page's text kept)", ("site", "pages", "median kept"),
              [(site, n, _percent(share)) for site, n, share in least]),
    ]))
    out.append(Section("What was removed, and why", ALL_NIGHTS, [
        Table("removed by rule family", ("family", "removed"), fig.removed_by_family.most_common(), "bars"),
        Table("by rule family and site", ("family", "site", "removed"),
              [(family, site, n) for (family, site), n in fig.removed_by_site.most_common()]),
        Table("rules that removed most, with examples", ("rule", "removed", "examples"),
              [(rule, n, " | ".join(fig.removed_examples.get(rule, []))) for rule, n in
               fig.removed_by_rule.most_common()]),
    ]))
    out.append(Section("Claims by role and type", ALL_NIGHTS, [
        Table("claims by role", ("role", "claims"), [(fig.role(r), n) for r, n in fig.claims_by_role.most_common()],
              "bars"),
        Table("claims by type", ("type", "claims"), fig.claims_by_type.most_common(), "bars"),
    ]))
    out.append(Section("Pages that gave no claims, and why", ALL_NIGHTS, [
        Table("pages without claims, by reason", ("reason", "pages", "of them tonight"),
              [(NO_CLAIMS[k], n, fig.no_claims_tonight[k]) for k, n in fig.no_claims.most_common()]),
        Table("some of them", ("page", "title", "reason"), [(p, t, NO_CLAIMS[r]) for p, t, r in fig.no_claims_pages],
              total=sum(fig.no_claims.values())),
    ]))
    out.append(Section("Most supported claims", ALL_NIGHTS, [
        Table("claims with the most supporting pages", ("claim", "roles", "type", "support"),
              [(text, ", ".join(fig.role(r) for r in roles), kind, n) for n, text, roles, kind in fig.supported],
              total=c.get("claims", 0)),
    ]))
    out.append(Section("Biggest near-duplicate clusters", ALL_NIGHTS, [
        Table("claims merged from the most wordings", ("claim (representative wording)", "support", "wordings",
                                                       "other wordings"),
              [(t, s, w, " | ".join(o)) for t, s, w, o in fig.clusters]),
    ]))
    out.append(Section("Since the previous night", TONIGHT, [
        Table("claims added (most support first)", ("claim", "support"), [tuple(a) for a in ch.get("added", [])],
              total=c.get("claims_added", 0)),
        Table("claims gaining support", ("claim", "before", "now"), [tuple(g) for g in ch.get("gained", [])],
              total=c.get("claims_gaining_support", 0)),
        Table("claims gone (no page gives them any more)", ("claim", "support before"),
              [tuple(g) for g in ch.get("gone", [])], total=c.get("claims_gone", 0)),
    ]))
    nights = m.get("nights", [])
    scope = f"the last {len(nights)} nights" if len(nights) > 1 else "the last night" if nights else "no night recorded"
    out.append(Section("Trend", scope, [
        Table("claims in the corpus by night", ("night", "claims"), [(n["run_id"], n["claims"]) for n in nights[::-1]],
              "bars"),
        Table("nights, newest first", ("night", "pages in", "ingested", "failed", "claims added", "claims gone",
                                       "claims", "seconds"),
              [(n["run_id"], n["pages_in"], n["ingested"], n["failed"], n["claims_added"], n["claims_gone"],
                n["claims"], n["seconds"]) for n in nights[::-1]]),
    ]))
    out.append(Section("Where the time went", TONIGHT, [
        Table("steps (wall seconds)", ("step", "seconds"),
              [(step, round(seconds, 3)) for step, seconds in m.get("seconds_by_step", {}).items()], "bars"),
        Table("per-page stages (seconds summed over the workers)", ("stage", "pages in", "pages out", "claims out",
                                                                     "ms a page", "seconds"),
              [(name, s["docs_in"], s["docs_out"], s["claims_out"], s.get("ms_per_page", ""), s.get("seconds", ""))
               for name, s in c.get("stages", {}).items()]),
    ]))
    return out


# --- terminal ----------------------------------------------------------------------------------

CELL = 60  # characters of a text cell on the terminal


def stats_lines(fig: Figures) -> list[str]:
    """The sections as plain terminal tables (`python -m pipeline stats`)."""
    m = fig.manifest
    lines = [f"run {m.get('run_id', '-')} ({m.get('seconds', 0)}s, workers {m.get('workers', '-')})"]
    for section in sections(fig):
        lines += ["", f"{'!! ' if section.alert else ''}== {section.heading}"]
        for table in section.tables:
            lines += _table(table)
    return lines


def _width(text: str) -> int:
    """Columns a text takes on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    text = f"{value:,}" if isinstance(value, int) else str(value)
    while _width(text) > CELL:
        text = text[: -2 if text.endswith("…") else -1].rstrip("…") + "…"
    return text


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _table(table: Table) -> list[str]:
    """A table as terminal lines: a header where the columns need naming, figures right-aligned."""
    lines = ["", table.title]
    if not table.shown:
        return [*lines, "  (none)"]
    rows = [[_cell(v) for v in row] for row in table.shown]
    if table.kind == "table":
        rows.insert(0, list(table.header))
    widths = [max(_width(row[i]) for row in rows) for i in range(len(table.header))]
    numeric = [all(isinstance(row[i], int | float) for row in table.shown) for i in range(len(table.header))]
    lines += ["  " + "  ".join(_pad(v, widths[i], numeric[i]) for i, v in enumerate(row)).rstrip() for row in rows]
    if table.more:
        lines.append(f"  +{table.more:,} more")
    return lines


# --- the page ----------------------------------------------------------------------------------

CSS = """
body{font:15px/1.5 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#1d2433}
header{background:#1d2433;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#b8c0d0}main{padding:16px 32px;max-width:1200px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:14px 20px;margin:16px 0}
section.alert{background:#fef3f2;border:2px solid #b42318}section.alert h2{color:#b42318}
h2{font-size:17px;margin:0 0 10px}h2 small{color:#5b6475;font-weight:400;font-size:14px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{background:#f6f7f9;border:1px solid #e1e4ea;border-radius:8px;padding:10px 16px;min-width:120px}
.tile b{display:block;font-size:24px}.tile span{color:#5b6475;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 28px}.wide{grid-column:1/-1}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;padding:4px 8px;
border-bottom:1px solid #eef0f3;vertical-align:top}th{color:#5b6475;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#5b6475;font-size:13px}
svg text{font-size:12px;fill:#1d2433}
"""

COLOURS = ("#3d6fd9", "#c4622d", "#2f9e6e", "#7a5af5", "#5b6475")


def _esc(value: Any) -> str:
    return html_lib.escape(f"{value:,}" if isinstance(value, int) else str(value))


def _more(table: Table) -> str:
    return f"<p class=muted>+{table.more:,} more</p>" if table.more else ""


def bars(table: Table, colour: str) -> str:
    """The table's first column charted by its last, as inline SVG horizontal bars."""
    rows = [(str(r[0]), r[-1]) for r in table.shown]
    if not rows:
        return f"<div><h3 class=muted>{_esc(table.title)}</h3><p class=muted>none</p></div>"
    top = max(v for _, v in rows) or 1
    label_w, bar_w, row_h, cut = 250, 190, 20, 34
    parts = [f'<svg role="img" aria-label="{_esc(table.title)}" width="{label_w + bar_w + 80}" '
             f'height="{row_h * len(rows) + 4}">']
    for i, (label, value) in enumerate(rows):
        y, width = i * row_h, round(bar_w * value / top)
        text = label if len(label) <= cut else label[: cut - 1] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_esc(text)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(1, width)}" height="14" '
                     f'rx="2" fill="{colour}"><title>{_esc(label)}: {_esc(value)}</title></rect>'
                     f'<text x="{label_w + width + 6}" y="{y + 14}">{_esc(value)}</text>')
    parts.append("</svg>")
    return f"<div><h3 class=muted>{_esc(table.title)}</h3>{''.join(parts)}{_more(table)}</div>"


def _rows(table: Table) -> str:
    if not table.shown:
        return f"<div><h3 class=muted>{_esc(table.title)}</h3><p class=muted>none</p></div>"
    numeric = {i for i in range(len(table.header)) if all(isinstance(r[i], int | float) for r in table.shown)}
    head = "".join(f"<th>{_esc(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{_esc(v)}</td>"
                                    for i, v in enumerate(row)) + "</tr>" for row in table.shown)
    wide = " class=wide" if len(table.header) > 3 else ""  # a row of the grid to itself
    return (f"<div{wide}><h3 class=muted>{_esc(table.title)}</h3><table><tr>{head}</tr>{body}</table>"
            f"{_more(table)}</div>")


def _tiles(table: Table) -> str:
    return "<div class=tiles>" + "".join(f"<div class=tile><b>{_esc(v)}</b><span>{_esc(k)}</span></div>"
                                         for k, v in table.rows) + "</div>"


def _section(section: Section, n: int) -> str:
    charts = [t for t in section.tables if t.kind == "bars"]
    parts = [_tiles(t) if t.kind == "tiles" else bars(t, COLOURS[(n + charts.index(t)) % len(COLOURS)])
             if t.kind == "bars" else _rows(t) for t in section.tables]
    inner = "<div class=grid>" + "".join(parts) + "</div>" if len(parts) > 1 else "".join(parts)
    alert = " class=alert role=alert" if section.alert else ""
    return f"<section{alert}><h2>{_esc(section.title)} <small>— {_esc(section.scope)}</small></h2>{inner}</section>"


def html(fig: Figures) -> str:
    """The report page: self-contained, nothing to fetch."""
    m = fig.manifest
    body = "".join(_section(s, i) for i, s in enumerate(sections(fig)))
    return (f"<!doctype html><html lang=zh><head><meta charset=utf-8><title>Corpus report {_esc(m.get('run_id'))}"
            f"</title><style>{CSS}</style></head><body><header><h1>Role-claims corpus: run {_esc(m.get('run_id'))}"
            f"</h1><p>{_esc(m.get('started'))} · {m.get('seconds', 0)}s · workers {m.get('workers', '-')} · "
            f"pipeline {_esc(m.get('pipeline_version'))} · config {_esc(m.get('config_version'))} · from "
            f"{_esc(m.get('raw_dir'))}</p></header><main>{body}</main></body></html>")


def write(folder: Path, manifest: dict[str, Any]) -> Figures:
    """report.html into the folder, replacing (never writing through) a file linked from the last run;
    the figures it shows."""
    fig = figures(folder, manifest)
    tmp = folder / f".{REPORT}.tmp"
    tmp.write_text(html(fig), encoding="utf-8")
    os.replace(tmp, folder / REPORT)
    return fig

