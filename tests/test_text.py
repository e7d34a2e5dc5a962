"""The shared text helpers: the fast fold agrees with its definition on any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pipeline.text import FOLD_MAP, SIMPLE, canonical, cjk_mask, code_points, fold, fold_nfkc, is_cjk

# The fast path's alphabet, plus what sends text down the slow one: combining marks, Hangul jamo
# (half-width ones compose after NFKC), compatibility ideographs, circled and squared forms.
TRICKY = "\u0301\u0308\u302a\u3099ﾳￗᄀ하㈱①㍱ｶﾞ﹏︰ˊİΣς\u2017"
ALPHABET = st.sampled_from("运营产品，。、！？；：“”‘’（）《》【】…—·「」 \t\nAaZz09０９ＡＺａｚ％＋〇々〸" + TRICKY)


@given(st.text(ALPHABET, max_size=30))
def test_fold_is_its_definition(text: str) -> None:
    assert fold(text) == fold_nfkc(text)


@given(st.text(max_size=30))
def test_fold_is_its_definition_on_any_text(text: str) -> None:
    assert fold(text) == fold_nfkc(text)


def test_every_cjk_ideograph_folds_to_itself() -> None:
    """What the fast path takes for granted about U+4E00-U+9FFF."""
    block = "".join(map(chr, range(0x4E00, 0xA000)))
    assert unicodedata.normalize("NFKC", block) == block
    assert all(ch.isalnum() for ch in block)
    assert SIMPLE.fullmatch(block)


def test_fold_examples() -> None:
    assert fold("产品运营，ＡＢｃ１２３！") == "产品运营abc123"
    assert FOLD_MAP[ord("Ａ")] == "a"
    assert fold("㈱运营") == fold_nfkc("㈱运营") == "株运营"
    assert canonical("產品運營") == "产品运营"


def test_cjk_mask_is_is_cjk_for_every_code_point() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert cjk_mask(code_points(every)).tolist() == [is_cjk(ch) for ch in every]
