from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import NormaliseConfig
from pipeline.model import Document
from pipeline.stages import normalise

from ..conftest import case_ids, golden

CASES = golden("normalise")


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_golden(case: dict) -> None:
    assert normalise.normalise_text(case["input"], NormaliseConfig()) == case["expected"]


CHINESE_ISH = st.text(alphabet=st.sampled_from(
    [*"产品運營的是，。,.?!:;()（）{}《》\"…ａＢ１2 \u3000\u200bǎùzhcn繁体拼音㊣✅浜у搧杩愯惀äºè\x01\x85\x9f", "\n"]))


@settings(max_examples=500)
@given(CHINESE_ISH)
def test_idempotent(text: str) -> None:
    once = normalise.normalise_text(text, NormaliseConfig())
    assert normalise.normalise_text(once, NormaliseConfig()) == once


@given(st.text())
def test_never_crashes(text: str) -> None:
    assert isinstance(normalise.normalise_text(text, NormaliseConfig()), str)


def test_script_detected_before_conversion() -> None:
    stage = normalise.make(NormaliseConfig())
    doc = stage(Document("a.txt", "text", lines=("產品運營負責數據與內容",)))
    assert doc.script == "traditional"
    assert doc.lines == ("产品运营负责数据与内容",)


def test_opencc_none_keeps_script() -> None:
    assert normalise.normalise_text("運營", NormaliseConfig(opencc="none")) == "運營"


@pytest.mark.parametrize(("opencc", "expected"), [("t2s", "产品运营负责数据"), ("tw2s", "产品运营负责数据"),
                                                  ("hk2s", "产品运营负责数据"), ("none", "產品運營負責數據")])
def test_script_recorded_whatever_the_conversion(opencc: str, expected: str) -> None:
    stage = normalise.make(NormaliseConfig(opencc=opencc))
    doc = stage(Document("a.txt", "text", lines=("產品運營負責數據",)))
    assert (doc.script, doc.lines) == ("traditional", (expected,))


def test_mojibake_repaired_before_script_is_detected() -> None:
    garbled = "产品运营负责数据分析".encode().decode("gb18030")
    doc = normalise.make(NormaliseConfig())(Document("a.txt", "text", lines=(garbled,)))
    assert (doc.script, doc.lines) == ("simplified", ("产品运营负责数据分析",))


def test_each_step_can_be_switched_off() -> None:
    off = NormaliseConfig(annotations=False, noise=False)
    assert normalise.normalise_text("產(chǎn)品㊣运营", off) == "产（chǎn）品㊣运营"
