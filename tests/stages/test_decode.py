from __future__ import annotations

import codecs

import pytest

from pipeline.config import DecodeConfig
from pipeline.model import Document, Drop
from pipeline.stages import decode

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


def test_an_in_page_utf16_declaration_reads_as_utf8() -> None:
    data = f'<meta charset="utf-16"><p>{TEXT}</p>'.encode()
    data += b" " * (len(data) % 2)  # an even length decodes as UTF-16 without a single error
    doc = decode.make(DecodeConfig())(Document("x", "html", raw=data))
    assert doc.encoding == "utf-8" and TEXT in doc.content


def test_a_bom_the_bytes_do_not_bear_out_is_set_aside() -> None:
    doc = decode.make(DecodeConfig())(Document("x", "text", raw=codecs.BOM_UTF16_LE + TEXT.encode("gbk")))
    assert doc.encoding == "gb18030" and doc.content == TEXT


def test_bytes_invalid_in_every_encoding_fail_as_undecodable() -> None:
    junk = bytes([0xFF, 0x80]) * 400  # neither UTF-8, UTF-16 (after the mark) nor GB18030
    result = decode.make(DecodeConfig())(Document("x", "text", raw=codecs.BOM_UTF8 + junk))
    assert isinstance(result, Drop) and result.failure and result.reason == "undecodable"


def test_a_file_of_utf8_and_gbk_halves_is_decoded_line_by_line(caplog: pytest.LogCaptureFixture) -> None:
    other = "内容运营负责内容的生产与分发，提升用户活跃。"
    data = TEXT.encode("utf-8") + b"\n" + other.encode("gbk") + b"\n"
    doc = decode.make(DecodeConfig())(Document("x", "text", raw=data))
    assert doc.content == f"{TEXT}\n{other}\n"
    assert doc.encoding == decode.MIXED and "mixed encodings" in caplog.text


def test_a_gbk_file_is_not_taken_for_mixed() -> None:
    doc = decode.make(DecodeConfig())(Document("x", "text", raw=("\n".join([TEXT] * 30)).encode("gbk")))
    assert doc.encoding == "gb18030"


def test_binary_behind_a_utf16_mark_is_binary() -> None:
    result = decode.make(DecodeConfig())(Document("x", "text", raw=codecs.BOM_UTF16_LE + b"\x00\xd8" * 300))
    assert isinstance(result, Drop) and result.failure
    doc = decode.make(DecodeConfig())(Document("x", "text", raw=TEXT.encode("utf-16")))
    assert doc.content == TEXT


def test_gbk_that_happens_to_be_valid_utf8_is_not_mixed() -> None:
    lines = ["双学位", TEXT, "双学位 学士学位"]  # 双学位 in GBK is valid UTF-8: ˫ѧλ
    assert "双学位".encode("gbk").decode("utf-8") == "˫ѧλ"
    doc = decode.make(DecodeConfig())(Document("x", "text", raw="\n".join(lines).encode("gbk")))
    assert doc.encoding == "gb18030" and doc.content.splitlines() == lines
