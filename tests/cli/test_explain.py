"""`explain` and `stats` on a page and a corpus."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..conftest import cli
from ..corpus.test_templates import CHROME, site_page


def test_explain_and_stats(tmp_path: Path) -> None:
    result = cli("explain", "raw/article_rules.html")
    assert result.returncode == 0
    assert "DROP" in result.stdout and "[rules.community_wall]" in result.stdout and "== claims" in result.stdout
    page = cli("explain", "raw/docshare_vip.html").stdout.splitlines()
    order = [next(i for i, line in enumerate(page) if mark in line)
             for mark in ("首页 > IT互联网", "[docshare.notice_list]", "keep  | 用户运营和内容运营有什么不同",
                          "[docshare.page_marker: PAGE PAGE 2]", "[container.related]")]
    assert order == sorted(order)  # the whole page in reading order, extraction cuts included
    out = tmp_path / "clean"
    assert cli("ingest", "raw", "--out", str(out), "-q").returncode == 0
    stats = cli("stats", str(out))
    assert stats.returncode == 0 and "claims by role" in stats.stdout



def test_explain_shows_claims_of_a_page_not_about_roles(tmp_path: Path) -> None:
    page = tmp_path / "news.txt"
    page.write_text("华东上调电价\n\n销售电价面临上涨压力，专家认为影响有限。\n\n超市的销售点挤满了人，大家排队购买。\n",
                    encoding="utf-8")
    result = cli("explain", str(page))
    assert result.returncode == 0
    assert "== not about roles: 2 claims naming a role removed [roles.off_topic]" in result.stdout
    assert result.stdout.rstrip().endswith("== claims (0): not about roles (none is the subject of title or sentences)")


def test_explain_says_why_a_page_gave_no_claims(tmp_path: Path) -> None:
    page = tmp_path / "weather.txt"
    page.write_text("今日天气\n\n今天天气晴朗，适合出门散步。\n\n明天可能有小雨，记得带伞。\n", encoding="utf-8")
    last = cli("explain", str(page)).stdout.rstrip().splitlines()[-1]
    assert last == "== claims (0): no sentence names a role, nor its heading or the title"



def test_explain_with_a_corpus_takes_out_the_site_templates_it_learned(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    raw.mkdir()
    for n in range(5):
        (raw / f"p{n}.html").write_text(site_page(n), encoding="utf-8")
    assert cli("ingest", str(raw), "--out", str(out), "-q").returncode == 0
    alone = cli("explain", str(raw / "p0.html"))
    assert alone.returncode == 0 and f"keep  | {CHROME}" in alone.stdout and "site templates" not in alone.stdout
    with_corpus = cli("explain", str(raw / "p0.html"), "--corpus", str(out))
    assert with_corpus.returncode == 0
    assert f"== site templates the corpus learned: 1 line removed\n - DROP  | {CHROME}  [template.site]" in \
        with_corpus.stdout
    assert "== claims (2)" in with_corpus.stdout
    missing = cli("explain", str(raw / "p0.html"), "--corpus", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: no corpus state in")


def test_explain_lists_the_sentences_that_are_no_claims_with_their_reason(tmp_path: Path) -> None:
    page = tmp_path / "pm.txt"
    page.write_text("产品经理的职责\n\n产品经理负责需求分析和产品规划，并协调设计与开发。为什么要做产品？\n\n"
                    "总的来说这些工作都是产品经理需要长期坚持并不断优化的核心内容和方\n", encoding="utf-8")
    result = cli("explain", str(page))
    assert result.returncode == 0
    assert " - DROP  | 为什么要做产品？  [segment.question]" in result.stdout
    assert "[claims.cut_off]" in result.stdout  # the last sentence, cut off by the end of the text
    assert "== claims (1)" in result.stdout



def test_explain_and_removed_say_why_the_classifier_and_the_sentence_rules_took_text(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "dump.txt").write_text(
        "回复\n用户运营是做什么的\n用户运营负责用户的拉新、留存与促活，是连接用户和产品的桥梁。感谢您的阅读，请持续关注本站。\n"
        "用户运营要懂数据，能从用户行为里找到留存和流失的原因，并据此调整运营策略。\n", encoding="utf-8")
    page = cli("explain", str(raw / "dump.txt")).stdout
    assert "DROP  | 回复  [chrome.line: " in page  # the classifier's removal names its features
    assert "~ CUT   |" in page and "[farm.outro: 感谢您的阅读，请持续关注本站。]" in page
    assert "title 用户运营是做什么的" in page
    out = tmp_path / "clean"
    assert cli("ingest", str(raw), "--out", str(out), "-q").returncode == 0
    removed = pd.read_parquet(out / "removed.parquet").set_index("rule")
    assert removed.loc["chrome.line", "why"] and pd.isna(removed.loc["farm.outro", "why"])
