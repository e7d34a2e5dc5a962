from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import SegmentConfig
from pipeline.model import Document
from pipeline.stages import segment

from ..conftest import case_ids, golden

CASES = golden("segment")


def claims_of(lines: tuple[str, ...], title: str | None = None, cfg: SegmentConfig | None = None) -> Document:
    return segment.make(cfg or SegmentConfig())(Document("a.txt", "text", lines=lines, title=title))


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_golden(case: dict) -> None:
    doc = claims_of(tuple(case["lines"]))
    assert [[c.text, " > ".join(c.section)] for c in doc.claims] == case["claims"]


def test_offsets_point_into_text() -> None:
    doc = claims_of(("标题行", "运营负责增长。推广负责曝光。"))
    assert doc.text == "标题行\n运营负责增长。推广负责曝光。"
    for c in doc.claims:
        assert doc.text[c.char_start:c.char_end] == c.text


def test_long_claims_are_split_at_commas() -> None:
    long_line = "，".join(["运营人员需要持续关注用户的反馈和数据变化"] * 30) + "。"
    doc = claims_of((long_line,))
    assert len(doc.claims) > 1
    assert all(len(c.text) <= 300 for c in doc.claims)


def test_title_line_is_not_a_claim() -> None:
    doc = claims_of(("运营和推广有什么不同之处以及如何区分这两者", "运营更关注用户的长期价值。"),
                    title="运营和推广有什么不同之处以及如何区分这两者")
    assert [c.text for c in doc.claims] == ["运营更关注用户的长期价值。"]


@given(st.lists(st.text(min_size=1).map(str.strip).filter(bool), max_size=8))
def test_never_crashes_and_offsets_hold(lines: list[str]) -> None:
    doc = claims_of(tuple(lines))
    for c in doc.claims:
        assert doc.text[c.char_start:c.char_end] == c.text
        assert len(c.text) <= 300


def test_a_line_without_a_space_is_one_part() -> None:
    # split_inline's fast path: only " " among the spaces is printable, so a printable line without
    # " " has no space at all, and both of its cuts need one.
    assert not [c for c in range(0x110000) if chr(c).isspace() and c != 0x20 and chr(c).isprintable()]
    assert segment.split_inline("新媒体运营的前途\u3000新媒体运营是一个很有前途的职业方向") == [
        (0, "新媒体运营的前途"), (9, "新媒体运营是一个很有前途的职业方向")]
    assert segment.split_inline("新媒体运营的前途新媒体运营") == [(0, "新媒体运营的前途新媒体运营")]


def test_sentences_that_are_no_claims_are_recorded_with_their_reason() -> None:
    doc = claims_of(("运营负责增长。好的。为什么要做运营？就是这样。",))
    assert [c.text for c in doc.claims] == ["运营负责增长。"]
    assert [(r.rule, r.text) for r in doc.removed] == [
        ("segment.short", "好的。"), ("segment.question", "为什么要做运营？"), ("segment.fragment", "就是这样。")]
    assert claims_of(doc.lines).removed == doc.removed  # segmenting again (after templates) records them once
