from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import Config, ConfigError
from pipeline.model import Document, Drop
from pipeline.stages import boilerplate

from ..conftest import case_ids, golden

CASES = golden("boilerplate")


@pytest.fixture(scope="module")
def pack(cfg: Config) -> boilerplate.RulePack:
    return boilerplate.load_rules(cfg.data_file(cfg.boilerplate.rules))


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_golden(case: dict, pack: boilerplate.RulePack) -> None:
    kept, removed, title = boilerplate.clean_lines(tuple(case["lines"]), case.get("title"), pack,
                                                   find_title=case.get("find_title", False))
    assert list(kept) == case["kept"]
    assert [r.rule for r in removed] == case["rules"]
    if "title_out" in case:
        assert title == (case["title_out"] or None)


def test_removals_point_at_their_lines(pack: boilerplate.RulePack) -> None:
    lines = ("运营的核心是用户。", "分享到朋友圈", "运营要看数据。")
    _, removed, _ = boilerplate.clean_lines(lines, None, pack)
    assert [(r.line, r.text, r.stage) for r in removed] == [(1, "分享到朋友圈", "boilerplate")]


def test_block_without_end_marker_removes_only_start(pack: boilerplate.RulePack) -> None:
    lines = ("我们致力于提供一个高质量内容的交流平台。", "运营是连接产品和用户的桥梁，要长期投入。")
    kept, removed, _ = boilerplate.clean_lines(lines, None, pack)
    assert kept == lines[1:]
    assert len(removed) == 1


def test_title_suffix_stripped(pack: boilerplate.RulePack) -> None:
    assert boilerplate.clean_title("运营和推广的区别-.docxVIP", pack) == "运营和推广的区别"


def test_all_boilerplate_page_is_dropped(cfg: Config) -> None:
    stage = boilerplate.make(cfg.boilerplate, cfg)
    assert isinstance(stage(Document("a.txt", "text", lines=("分享到朋友圈", "收藏"))), Drop)


def test_rule_without_id_is_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[line]]\npattern = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unique id"):
        boilerplate.load_rules(bad)


def test_bad_pattern_names_the_rule(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[line]]\nid = "x.bad"\npattern = "("\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"x\.bad"):
        boilerplate.load_rules(bad)


def test_container_tag_must_be_element_names(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[container]]\nid = "x.nav"\ntag = "na.*"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"x\.nav: tag must be element names"):
        boilerplate.load_rules(bad)


def test_container_rule_is_the_first_match_by_tag_token_or_style(pack: boilerplate.RulePack) -> None:
    first = pack.container_rule("div", None, "x has-comments", "display: none")
    assert first is not None and first.id == "container.hidden"  # the style rule comes first in the pack
    assert pack.container_rule("nav", None, "comments", None).id == "container.nav"  # type: ignore[union-attr]
    assert pack.container_rule("div", "Comments", None, None).id == "container.comments"  # type: ignore[union-attr]
    assert pack.container_rule("div", None, "article body", None) is None
    assert pack.container_rule("div", None, "article body", None) is None  # memoised answer, same


@pytest.mark.parametrize(("title", "headline"), [
    ("四年前中500万现穷困潦倒 一夜暴富后如何经营__商贸_产业资讯_某某网", "四年前中500万现穷困潦倒 一夜暴富后如何经营"),
    ("Joel on Software - 给计算机系学生的建议", "给计算机系学生的建议"),
    ("用户运营和内容运营有什么不同-.docxVIP - 文库", "用户运营和内容运营有什么不同"),
    ("产品运营 vs 用户运营", "产品运营 vs 用户运营"),
])
def test_title_is_the_headline_without_site_names(title: str, headline: str, pack: boilerplate.RulePack) -> None:
    assert boilerplate.clean_title(title, pack) == headline


def test_headline_repeated_later_in_the_page_is_kept_once(pack: boilerplate.RulePack) -> None:
    lines = ("用户运营是做什么的", "用户运营负责拉新、留存与促活。", "用户运营是做什么的")
    kept, removed, _ = boilerplate.clean_lines(lines, boilerplate.clean_title("用户运营是做什么的_某某网", pack), pack)
    assert kept == lines[:2]
    assert [r.rule for r in removed] == ["title.repeated"]


@pytest.mark.parametrize(("pattern", "words"), [
    ("^(查看更多|展开全文)[>》]*$", {"查看更多", "展开全文"}),
    (r"\d{3}\*{4}\d{4}|^上传于", {"*", "上传于"}),
    (r"^(PAGE\s*)+\d+", {"PAGE"}),
    (r"^\d{4}[-/]\d{1,2}$", None),  # nothing literal: the rule always runs
    ("(?:分享|收藏)?到", {"到"}),  # an optional group needs nothing
    ("a(?i:bc)d", {"a"}),  # case-insensitive part: not a literal to scan for
    ("分享 到朋友", {"到朋友"}),  # a space ends a word (a strip's cut leaves one)
])
def test_required_words(pattern: str, words: set[str] | None) -> None:
    assert boilerplate.required_words(re.compile(pattern)) == (frozenset(words) if words else None)


PACK = boilerplate.load_rules(Config().data_file(Config().boilerplate.rules))
# Pieces of lines that some rules need and others nearly match, and text around them.
LINE_PIECES = st.sampled_from([
    "分享到", "朋友圈", "收藏", "下载文档", "VIP", "上传于", "关注", "作者", "来源", "：", ":", "发布时间", "2024-1-12",
    "阅读全文", "首页>", "版权所有", "侵权必究", "相关推荐", "原创力文档", "会员体验卡", "确认要消耗", "PAGE", "3",
    ".docx", "pdf", "｜", "|", "/摄", "【", "】", "2024年1月12日", "电", "报道", " ", "，", "。", "运营", "的", "*",
    "123****4567", "评论", "(", "12", ")", "免责声明", "目录", "编辑", "张三",
])
LINES = st.lists(LINE_PIECES, max_size=8).map("".join)


@given(LINES)
def test_hints_never_change_which_rules_match_a_line(line: str) -> None:
    pack = PACK
    every = next((r.id for r in pack.lines if len(line) <= r.max_chars and r.pattern.search(line)), None)
    assert boilerplate._line_rule(line, pack) == every
    unhinted = boilerplate.Hinted(pack.strips.rules, None, pack.strips.rules)
    assert boilerplate.apply_strips(line, pack.strips) == boilerplate.apply_strips(line, unhinted)
    assert ([b.id for b in pack.blocks.for_line(line) if b.start.search(line)]
            == [b.id for b in pack.blocks if b.start.search(line)])


COMMON_TEXT = st.text(alphabet=st.sampled_from("运营的是用户内容产品推广，。！？ abc123"), max_size=60)


@given(COMMON_TEXT)
def test_common_text_is_never_noise(line: str) -> None:
    assert boilerplate.cut_noise(line) == (line, [])


@given(COMMON_TEXT, st.text(alphabet=st.sampled_from("戯眲漞弚玊翤"), min_size=3, max_size=6))
def test_a_rare_run_is_cut_and_nothing_else(line: str, noise: str) -> None:
    half = len(line) // 2
    out, cuts = boilerplate.cut_noise(line[:half] + noise + line[half:])
    assert out == line and cuts == [(boilerplate.NOISE_RULE, noise)]


@given(st.lists(st.sampled_from(["小编来了。", "用户运营很重要。", "感谢您的阅读！", "运营要看数据", "以下是总结："]),
                max_size=6).map("".join))
def test_sentence_cuts_leave_the_other_sentences_in_order(line: str) -> None:
    kept, cuts = boilerplate.apply_sentences(line, PACK.sentences)
    assert "".join(boilerplate.SENTENCES.findall(line)) == line
    assert all(sentence in line for _, sentence in cuts)
    assert len(kept) + sum(len(s) for _, s in cuts) == len(line.strip()) or not cuts


@given(LINES)
def test_a_remembered_verdict_is_the_one_worked_out_afresh(line: str) -> None:
    fresh = boilerplate.load_rules(Config().data_file(Config().boilerplate.rules))
    first = PACK.verdict(line)
    assert PACK.verdict(line) == first == fresh.verdict(line)
    assert first.rule == (boilerplate._line_rule(first.line, fresh) if first.line else None)
