from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import read
from pipeline.config import ReadConfig
from pipeline.model import Document


def outcomes(raw: Path, cfg: ReadConfig | None = None) -> dict[str, Document | read.InputEvent]:
    return {item.source_path if isinstance(item, Document) else item.path: item
            for item in read.read_inputs(raw, cfg or ReadConfig())}


def test_kinds_and_events(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>运营</p>", encoding="utf-8")
    (tmp_path / "a.html.url").write_text("https://example.com/a\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt.gz").write_bytes(gzip.compress("推广".encode()))
    (tmp_path / "c.pdf").write_bytes(b"%PDF")
    (tmp_path / "empty.txt").write_bytes(b"  \n")
    (tmp_path / "bad.html.gz").write_bytes(b"not gzip at all")
    got = outcomes(tmp_path)
    assert got["a.html"].source_url == "https://example.com/a"
    assert got["a.html.url"].outcome == "sidecar"
    assert got["sub/b.txt.gz"].raw == "推广".encode()
    assert got["c.pdf"].outcome == "skipped"
    assert got["empty.txt"].reason == "empty file"
    assert got["bad.html.gz"].outcome == "failed" and "corrupt gzip" in got["bad.html.gz"].reason


def test_oversized_inputs_fail(tmp_path: Path) -> None:
    (tmp_path / "big.html").write_bytes(b"x" * 3000)
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(b"y" * 3000))
    cfg = ReadConfig(max_file_mb=2000 / 1024 / 1024, max_decompressed_mb=2000 / 1024 / 1024)
    got = outcomes(tmp_path, cfg)
    assert "file too large" in got["big.html"].reason
    assert "expands beyond" in got["bomb.txt.gz"].reason


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [json.dumps({"url": "https://s/1", "html": "<p>运营</p>"}), "{broken", json.dumps({"text": "推广"}),
             json.dumps({"other": 1})]
    (tmp_path / "crawl.jsonl").write_text("\n".join(lines), encoding="utf-8")
    got = outcomes(tmp_path)
    assert got["crawl.jsonl#1"].format == "html" and got["crawl.jsonl#1"].source_url == "https://s/1"
    assert got["crawl.jsonl#2"].outcome == "failed"
    assert got["crawl.jsonl#3"].format == "text"
    assert got["crawl.jsonl#4"].outcome == "failed"


def test_warc_records(tmp_path: Path) -> None:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    body = "<html><meta charset=gbk><p>市场推广</p></html>".encode("gbk")
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=GBK")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://s/p", "response", payload=io.BytesIO(body),
                                                  http_headers=headers))
    (tmp_path / "c.warc.gz").write_bytes(buf.getvalue())
    doc = outcomes(tmp_path)["c.warc.gz#1"]
    assert doc.raw == body and doc.declared_encoding == "GBK" and doc.source_url == "https://s/p"


def test_symlink_loop_not_followed(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    got = outcomes(tmp_path)
    assert got["d/loop"].outcome == "skipped"


def test_ids_come_from_content(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("运营", encoding="utf-8")
    (tmp_path / "b.txt").write_text("运营", encoding="utf-8")
    got = outcomes(tmp_path)
    assert got["a.txt"].doc_id == got["b.txt"].doc_id
