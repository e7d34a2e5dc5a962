"""The run as a person reads it: key figures of an output folder, as `report.html` and as `stats`.

`figures` reads the corpus files a batch at a time (pyarrow), so it costs little memory on a large
corpus; `html` renders the figures as one self-contained page (inline CSS and SVG charts, nothing
fetched), and `stats` prints the same figures as terminal tables. Both read the same `Figures`.
"""

from __future__ import annotations

import html as html_lib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .write import REPORT, row_groups

TOP = 12  # rows per table, bars per chart
EXAMPLES = 2  # removed texts shown per rule


@dataclass
class Figures:
    """What a run did and what the corpus holds, ready to show."""

    manifest: dict[str, Any]
    pages_by: dict[str, Counter[str]] = field(default_factory=dict)  # site, format, encoding, script
    removed_by_site: Counter[tuple[str, str]] = field(default_factory=Counter)  # (family, site)
    removed_examples: dict[str, list[str]] = field(default_factory=dict)  # rule -> texts
    removed_by_rule: Counter[str] = field(default_factory=Counter)
    claims_by_role: Counter[str] = field(default_factory=Counter)
    claims_by_type: Counter[str] = field(default_factory=Counter)
    clusters: list[tuple[str, int, int, list[str]]] = field(default_factory=list)  # text, support, wordings, some
    failures: list[tuple[str, str]] = field(default_factory=list)  # path, reason
    added: list[tuple[str, int]] = field(default_factory=list)  # text, support: the new claims with most support
    gained: list[tuple[str, int, int]] = field(default_factory=list)  # text, before, now

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest.get("counts", {})

    @property
    def removed_by_family(self) -> Counter[str]:
        """Removals by the part of the rule id before the dot."""
        families: Counter[str] = Counter()
        for rule, n in self.removed_by_rule.items():
            families[rule.split(".")[0]] += n
        return families


def _batches(path: Path, columns: list[str]) -> Iterator[dict[str, list[Any]]]:
    if not path.is_file():
        return
    for group in row_groups(path, columns):
        yield group.to_pydict()


def change(previous: Path, current: Path) -> dict[str, Any]:
    """Claims added since the previous corpus and claims gaining support: counts and the biggest of each."""
    before: dict[str, int] = {}
    for b in _batches(previous / "claims.parquet", ["claim_id", "support"]):
        before.update(zip(b["claim_id"], b["support"], strict=True))
    added: list[tuple[str, int]] = []
    gained: list[tuple[str, int, int]] = []
    n_added = n_gained = 0
    for b in _batches(current / "claims.parquet", ["claim_id", "text", "support"]):
        for cid, text, support in zip(b["claim_id"], b["text"], b["support"], strict=True):
            if cid not in before:
                n_added += 1
                added.append((text, support))
            elif support > before[cid]:
                n_gained += 1
                gained.append((text, before[cid], support))
        added = sorted(added, key=lambda a: -a[1])[:TOP]
        gained = sorted(gained, key=lambda g: g[1] - g[2])[:TOP]
    return {"claims_added": n_added, "claims_gaining_support": n_gained, "added": added, "gained": gained}


def figures(folder: Path, manifest: dict[str, Any] | None = None) -> Figures:
    """The figures of the output folder (its manifest unless one is given)."""
    if manifest is None:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    fig = Figures(manifest)
    for name in ("site", "format", "encoding", "script"):
        fig.pages_by[name] = Counter()
    for b in _batches(folder / "documents.parquet", ["site", "format", "encoding", "script"]):
        for name in fig.pages_by:
            fig.pages_by[name].update(v or ("(no URL)" if name == "site" else "(unknown)") for v in b[name])
    sites = _Sites(folder)
    for b in _batches(folder / "removed.parquet", ["doc_id", "rule", "text"]):
        fig.removed_by_rule.update(b["rule"])
        for (doc_id, rule), n in Counter(zip(b["doc_id"], b["rule"], strict=True)).items():  # counted in C
            fig.removed_by_site[(rule.split(".")[0], sites.site(doc_id))] += n
        _examples(fig.removed_examples, b["rule"], b["text"])
    for b in _batches(folder / "claims.parquet", ["roles", "claim_type"]):
        for roles in b["roles"]:
            fig.claims_by_role.update(roles)
        fig.claims_by_type.update(b["claim_type"])
    fig.clusters = _biggest_clusters(folder)
    fig.failures = [(i["path"], i.get("reason", "")) for i in manifest.get("inputs", []) if i["outcome"] == "failed"]
    change_of = manifest.get("change", {})
    fig.added = [tuple(a) for a in change_of.get("added", [])]  # type: ignore[misc]
    fig.gained = [tuple(g) for g in change_of.get("gained", [])]  # type: ignore[misc]
    return fig


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


class _Sites:
    """Each page's site, for the removals of that page: documents.parquet and removed.parquet are both
    written in path order, so the pages are read alongside the removals, never held all at once."""

    def __init__(self, folder: Path) -> None:
        self.pages = (row for b in _batches(folder / "documents.parquet", ["doc_id", "site"])
                      for row in zip(b["doc_id"], b["site"], strict=True))
        self.current: tuple[str, str | None] = ("", None)

    def site(self, doc_id: str) -> str:
        while self.current[0] != doc_id:
            nxt = next(self.pages, None)
            if nxt is None:  # not in path order after all: say so rather than guess
                return "(unknown)"
            self.current = nxt
        return self.current[1] or "(no URL)"


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
    return sorted(rows, key=lambda r: (-r[2], -r[1], r[0]))[:TOP]


# --- terminal ----------------------------------------------------------------------------------


def stats_lines(fig: Figures) -> list[str]:
    """The key figures as plain terminal tables (`python -m pipeline stats`)."""
    c = fig.counts
    m = fig.manifest
    lines = [f"run {m.get('run_id', '-')} ({m.get('seconds', 0)}s, workers {m.get('workers', '-')})"]
    lines += _table("corpus", [("documents", c.get("documents", 0)),
                               ("  republished copies (duplicate_of)", c.get("duplicate_documents", 0)),
                               ("claims", c.get("claims", 0)), ("claim occurrences", c.get("claim_occurrences", 0)),
                               ("claims added tonight", c.get("claims_added", 0)),
                               ("claims gaining support", c.get("claims_gaining_support", 0))])
    lines += _table("inputs", sorted(c.get("inputs", {}).items()))
    for name in ("site", "format", "encoding", "script"):
        lines += _table(f"pages by {name}", fig.pages_by[name].most_common(TOP))
    lines += _table("removed by rule family", fig.removed_by_family.most_common())
    lines += _table("claims by role", fig.claims_by_role.most_common(TOP * 2))
    lines += _table("claims by type", fig.claims_by_type.most_common())
    if fig.failures:
        lines += _table("failures", Counter(r.split(":")[0] for _, r in fig.failures).most_common())
    return lines


def _table(title: str, rows: list[tuple[str, int]]) -> list[str]:
    width = max((len(str(k)) for k, _ in rows), default=0)
    return ["", title] + [f"  {k!s:<{width}}  {v:>9,}" for k, v in rows] if rows else ["", title, "  (none)"]


# --- the page ----------------------------------------------------------------------------------

CSS = """
body{font:15px/1.5 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#1d2433}
header{background:#1d2433;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#b8c0d0}main{padding:16px 32px;max-width:1200px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:14px 20px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:10px 16px;min-width:130px}
.tile b{display:block;font-size:24px}.tile span{color:#5b6475;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:8px 28px}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;padding:4px 8px;
border-bottom:1px solid #eef0f3;vertical-align:top}th{color:#5b6475;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#5b6475;font-size:13px}
svg text{font-size:12px;fill:#1d2433}.bad{color:#b42318}
"""


def _esc(value: Any) -> str:
    return html_lib.escape(str(value))


def bars(title: str, rows: list[tuple[str, int]], colour: str = "#3d6fd9") -> str:
    """A horizontal bar chart as inline SVG."""
    rows = rows[:TOP]
    if not rows:
        return f"<div><h3 class=muted>{_esc(title)}</h3><p class=muted>none</p></div>"
    top = max(v for _, v in rows) or 1
    label_w, bar_w, row_h = 170, 190, 20
    parts = [f'<svg role="img" aria-label="{_esc(title)}" width="{label_w + bar_w + 70}" '
             f'height="{row_h * len(rows) + 4}">']
    for i, (label, value) in enumerate(rows):
        y = i * row_h
        text = str(label) if len(str(label)) <= 22 else str(label)[:21] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_esc(text)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(1, round(bar_w * value / top))}" height="14" '
                     f'rx="2" fill="{colour}"><title>{_esc(label)}: {value:,}</title></rect>'
                     f'<text x="{label_w + round(bar_w * value / top) + 6}" y="{y + 14}">{value:,}</text>')
    parts.append("</svg>")
    return f"<div><h3 class=muted>{_esc(title)}</h3>{''.join(parts)}</div>"


def _rows(header: list[str], rows: list[list[Any]], numeric: frozenset[int] = frozenset()) -> str:
    if not rows:
        return "<p class=muted>none</p>"
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{_esc(v)}</td>"
                                    for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html(fig: Figures) -> str:
    """The report page: self-contained, nothing to fetch."""
    c, m = fig.counts, fig.manifest
    inputs = c.get("inputs", {})
    tiles = [("pages in", sum(inputs.values())), ("ingested", inputs.get("ingested", 0)),
             ("unchanged", inputs.get("unchanged", 0)), ("failed", inputs.get("failed", 0)),
             ("documents", c.get("documents", 0)), ("republished copies", c.get("duplicate_documents", 0)),
             ("claims", c.get("claims", 0)), ("added tonight", c.get("claims_added", 0)),
             ("gaining support", c.get("claims_gaining_support", 0))]
    tile_html = "".join(f"<div class=tile><b>{v:,}</b><span>{_esc(k)}</span></div>" for k, v in tiles)
    families = fig.removed_by_family.most_common()
    by_site = [[family, site, n] for (family, site), n in fig.removed_by_site.most_common(TOP)]
    examples = [[rule, n, " | ".join(fig.removed_examples.get(rule, []))] for rule, n in
                fig.removed_by_rule.most_common(TOP)]
    sections = [
        ("What came in", "<div class=grid>" + "".join(
            bars(f"pages by {name}", fig.pages_by[name].most_common(TOP)) for name in fig.pages_by) + "</div>"
         + bars("inputs by outcome", sorted(inputs.items(), key=lambda kv: -kv[1]), "#5b6475")),
        ("What was removed, and why", "<div class=grid>" + bars("removed by rule family", families, "#c4622d")
         + "<div><h3 class=muted>by rule family and site</h3>" + _rows(["family", "site", "removed"], by_site,
                                                                        frozenset({2})) + "</div></div>"
         + "<h3 class=muted>rules that removed most, with examples</h3>"
         + _rows(["rule", "removed", "examples"], examples, frozenset({1}))),
        ("Claims by role and type", "<div class=grid>" + bars("claims by role", fig.claims_by_role.most_common(TOP),
                                                             "#2f9e6e")
         + bars("claims by type", fig.claims_by_type.most_common(), "#7a5af5") + "</div>"),
        ("Biggest near-duplicate clusters", _rows(
            ["claim (representative wording)", "support", "wordings", "other wordings"],
            [[t, s, w, " | ".join(o)] for t, s, w, o in fig.clusters], frozenset({1, 2}))),
        ("Since the previous night", "<div class=grid><div><h3 class=muted>claims added (most support first)</h3>"
         + _rows(["claim", "support"], [list(a) for a in fig.added], frozenset({1}))
         + "</div><div><h3 class=muted>claims gaining support</h3>"
         + _rows(["claim", "before", "now"], [list(g) for g in fig.gained], frozenset({1, 2})) + "</div></div>"),
        ("Failures", _rows(["input", "reason"], [list(f) for f in fig.failures[:200]])
         + (f"<p class=muted>and {len(fig.failures) - 200} more in manifest.json</p>"
            if len(fig.failures) > 200 else "")),
    ]
    body = "".join(f"<section><h2>{_esc(title)}</h2>{content}</section>" for title, content in sections)
    return (f"<!doctype html><html lang=zh><head><meta charset=utf-8><title>Corpus report {_esc(m.get('run_id'))}"
            f"</title><style>{CSS}</style></head><body><header><h1>Role-claims corpus: run {_esc(m.get('run_id'))}"
            f"</h1><p>{_esc(m.get('started'))} · {m.get('seconds', 0)}s · workers {m.get('workers', '-')} · "
            f"pipeline {_esc(m.get('pipeline_version'))} · config {_esc(m.get('config_version'))} · from "
            f"{_esc(m.get('raw_dir'))}</p></header><main><div class=tiles>{tile_html}</div>{body}</main></body></html>")


def write(folder: Path, manifest: dict[str, Any]) -> None:
    """report.html into the folder, replacing (never writing through) a file linked from the last run."""
    tmp = folder / f".{REPORT}.tmp"
    tmp.write_text(html(figures(folder, manifest)), encoding="utf-8")
    os.replace(tmp, folder / REPORT)
