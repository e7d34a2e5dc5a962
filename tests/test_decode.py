from __future__ import annotations

import codecs

import pytest

from pipeline import decode
from pipeline.config import DecodeConfig
from pipeline.model import Document, Drop

TEXT = "产品运营是指以用户为中心的运营工作，负责内容与活动的策划。"
TRAD = "產品運營是指以用戶為中心的運營工作，負責內容與活動的策劃。"
# (bytes, format, transport charset, expected codec, why)
CASES = [
    (codecs.BOM_UTF8 + TEXT.encode(), "text", None, "utf-8", "UTF-8 BOM wins"),
    (f'<meta charset="gb2312"><p>{TEXT}</p>'.encode("gbk"), "html", None, "gb18030",
     "GB2312 label read as GB18030"),
    (f"<p>{TEXT}</p>".encode("gb18030"), "html", None, "gb18030", "undeclared GBK detected"),
    (TRAD.encode("big5"), "text", None, "big5hkscs", "undeclared Big5 detected"),
    (TEXT.encode("utf-8"), "text", None, "utf-8", "undeclared UTF-8 detected"),
    (f'<meta charset="utf-8"><p>{TEXT}</p>'.encode("gbk"), "html", None, "gb18030",
     "a declaration the bytes contradict is not trusted"),
    (TEXT.encode("gbk"), "html", "GBK", "gb18030", "transport charset is used"),
    (f'<text id="u" encoding="gb2312"><p>{TEXT}</p></text>'.encode("gbk"), "html", None, "gb18030",
     "crawler wrapper encoding attribute is a declaration"),
]


@pytest.mark.parametrize(("data", "fmt", "transport", "expected", "why"), CASES, ids=[c[-1] for c in CASES])
def test_decode(data: bytes, fmt: str, transport: str | None, expected: str, why: str) -> None:
    doc = decode.make(DecodeConfig())(Document("x", fmt, raw=data, declared_encoding=transport))
    assert not isinstance(doc, Drop)
    assert doc.encoding == expected, why
    assert "以用户为中心" in doc.content or "以用戶為中心" in doc.content


def test_binary_is_a_failure() -> None:
    result = decode.make(DecodeConfig())(Document("x", "html", raw=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10))
    assert isinstance(result, Drop) and result.failure


def test_crlf_becomes_lf() -> None:
    doc = decode.make(DecodeConfig())(Document("x", "text", raw="运营\r\n推广\r".encode()))
    assert doc.content == "运营\n推广\n"


def test_canonical_encoding_labels() -> None:
    assert decode.canonical_encoding("GB2312") == "gb18030"
    assert decode.canonical_encoding("big5") == "big5hkscs"
    assert decode.canonical_encoding("unset") is None
    assert decode.canonical_encoding("no-such-charset") is None
