from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.cli.main import main
from pipeline.config import TemplatesConfig
from pipeline.corpus import templates
from pipeline.corpus.state import State
from pipeline.model import Document

CFG = TemplatesConfig(min_pages=3, min_share=0.5, max_chars=60, corpus_min_sites=0)
CHROME = "扫码关注运营研究社公众号"


def page(n: int, site: str = "a.example.com", title: str | None = None, *extra: str) -> Document:
    lines = (f"运营岗位的理解，{'要从用户价值出发' * (n + 1)}。", CHROME, *extra)  # differs in words, not digits
    return Document(f"p{n}.html", "html", source_url=f"https://{site}/p{n}", title=title or f"标题{n}",
                    lines=lines, doc_id=f"d{n}")


def learned(docs: list[Document], batch_pages: int = 500) -> State:
    db = State(Path(":memory:"))
    learner = templates.Learner(db, batch_pages)
    for doc in docs:
        learner.learn(doc, templates.keys_of(doc, CFG))
    learner.flush()
    return db


def apply(doc: Document, db: State) -> Document | None:
    return templates.apply(doc, templates.keys_of(doc, CFG), templates.Rules.of(db, CFG))


def test_line_on_most_pages_of_a_site_is_removed_and_recorded() -> None:
    docs = [page(n) for n in range(4)]
    cleaned = apply(docs[0], learned(docs))
    assert cleaned is not None and CHROME not in cleaned.lines
    assert [(r.stage, r.rule, r.text) for r in cleaned.removed] == [("templates", "template.site", CHROME)]


def test_line_on_a_few_pages_of_a_big_site_stays() -> None:
    shared = "用户运营的核心是留存。"
    docs = [page(n, "b.example.com", None, *((shared,) if n < 3 else ())) for n in range(10)]
    docs = [Document(d.source_path, "html", source_url=d.source_url, title=d.title, lines=d.lines[:1] + d.lines[2:],
                     doc_id=d.doc_id) for d in docs]
    assert apply(docs[0], learned(docs)) is None


def test_counts_are_the_same_whatever_the_batch() -> None:
    docs = [page(n) for n in range(7)]
    small, large = learned(docs, batch_pages=2), learned(docs)
    rows = "SELECT site, key, pages, text FROM templates ORDER BY site, key"
    assert small.db.execute(rows).fetchall() == large.db.execute(rows).fetchall()
    assert small.db.execute("SELECT * FROM template_sites").fetchall() == [("a.example.com", 7)]


def test_a_line_on_enough_sites_is_a_corpus_template() -> None:
    cfg = TemplatesConfig(min_pages=50, min_share=0.9, max_chars=60, corpus_min_sites=3)
    db = State(Path(":memory:"))
    learner = templates.Learner(db)
    docs = [page(n, f"s{n}.example.com") for n in range(3)]
    for doc in docs:
        learner.learn(doc, templates.keys_of(doc, cfg))
    learner.flush()
    rules = templates.Rules.of(db, cfg)
    cleaned = templates.apply(docs[0], templates.keys_of(docs[0], cfg), rules)
    assert cleaned is not None and [r.rule for r in cleaned.removed] == ["template.corpus"]
    db.mark_templates(rules.site, rules.corpus)
    assert db.db.execute("SELECT DISTINCT template FROM templates WHERE text = ?", (CHROME,)).fetchall() == [
        ("template.corpus",)]


def test_mirrors_of_one_article_are_not_a_template() -> None:
    docs = [page(n, title="同一篇文章") for n in range(4)]
    assert apply(docs[0], learned(docs)) is None


def test_other_sites_are_not_touched() -> None:
    state = learned([page(n) for n in range(4)])
    assert apply(page(9, "other.example.org"), state) is None


def test_long_lines_are_never_template() -> None:
    long = "运营" * 40
    docs = [page(n, "c.example.com", None, long) for n in range(4)]
    cleaned = apply(docs[0], learned(docs))
    assert cleaned is not None and long in cleaned.lines


def site_page(n: int) -> str:
    return (f'<text id="https://blog.example.com/p{n}" title="第{n}篇运营笔记" encoding="utf-8"><html><body><div>'
            f"<p>产品运营{'一课' * (n % 7 + 1)}：运营要围绕产品功能展开工作，让用户用好产品，并把反馈带回研发。</p>"
            f"<p>内容运营{'一讲' * (n % 7 + 1)}：内容运营负责选题、生产和分发，用优质内容吸引并留住用户。</p>"
            f"<p>{CHROME}</p></div></body></html></text>")


def test_what_one_night_learns_cleans_the_next_nights_single_page(tmp_path: Path) -> None:
    night1, night2, out = tmp_path / "n1", tmp_path / "n2", tmp_path / "clean"
    night1.mkdir()
    night2.mkdir()
    for n in range(5):
        (night1 / f"p{n}.html").write_text(site_page(n), encoding="utf-8")
    (night2 / "new.html").write_text(site_page(99), encoding="utf-8")
    assert main(["ingest", str(night1), "--out", str(out), "-q", "--workers", "1"]) == 0
    assert main(["ingest", str(night2), "--out", str(out), "-q", "--workers", "1"]) == 0
    docs = pd.read_parquet(out / "documents.parquet").set_index("source_path")
    assert len(docs) == 6  # the corpus accumulates across nights
    assert CHROME not in docs.loc["new.html", "text"]
    assert "template.site" in set(pd.read_parquet(out / "removed.parquet")["rule"])
    assert main(["ingest", str(night2), "--out", str(out), "-q", "--workers", "1", "--full"]) == 0
    rebuilt = pd.read_parquet(out / "documents.parquet")
    assert len(rebuilt) == 1 and CHROME in rebuilt["text"].iloc[0]


def test_the_table_records_which_lines_are_site_templates() -> None:
    db = learned([page(n) for n in range(4)])
    rules = templates.Rules.of(db, CFG)
    db.mark_templates(rules.site, rules.corpus)
    marked = dict(db.db.execute("SELECT text, template FROM templates WHERE site = 'a.example.com'").fetchall())
    assert marked[CHROME] == "template.site"
    assert {t for text, t in marked.items() if text != CHROME} == {None}


def test_lines_that_differ_only_in_their_numbers_are_one_template() -> None:
    docs = [page(n, "c.example.com", None, f"阅读 {4644 + 37 * n}", f"2021-05-{10 + n} 10:{50 - n}") for n in range(4)]
    cleaned = apply(docs[0], learned(docs))
    assert cleaned is not None and cleaned.lines == docs[0].lines[:1]
    assert templates.line_key("1,182次浏览") == templates.line_key("7次浏览")
    assert templates.page_key(docs[0]) != templates.page_key(docs[1])  # titles 标题0 and 标题1: two pages
