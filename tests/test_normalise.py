from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import normalise
from pipeline.config import NormaliseConfig
from pipeline.model import Document

from .conftest import case_ids, golden

CASES = golden("normalise")


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_golden(case: dict) -> None:
    assert normalise.normalise_text(case["input"], NormaliseConfig()) == case["expected"]


CHINESE_ISH = st.text(alphabet=st.sampled_from([*"产品運營的是，。,.?!:;()（）ａＢ１2 \u3000\u200bǎ", "\n"]))


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
