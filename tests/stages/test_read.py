from __future__ import annotations

import gzip
import io
import json
import os
import re
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.config import ReadConfig
from pipeline.model import Document
from pipeline.run.pages import time_limit
from pipeline.stages import decode, extract, read


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


def test_a_jsonl_record_s_title_and_date_are_the_page_s(tmp_path: Path, cfg) -> None:
    record = {"url": "https://s/1", "title": "新媒体运营是做什么的", "published": "2024-03-01",
              "html": "<html><head><title>某站 - 首页</title></head><body><p>新媒体运营负责内容。</p></body></html>"}
    (tmp_path / "crawl.jsonl").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    doc = outcomes(tmp_path)["crawl.jsonl#1"]
    assert (doc.title, doc.published) == ("新媒体运营是做什么的", "2024-03-01")
    extracted = extract.make(cfg.extract, cfg)(decode.make(cfg.decode)(doc))
    assert (extracted.title, extracted.published) == ("新媒体运营是做什么的", "2024-03-01")  # not the HTML's title


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


def test_ids_come_from_content_and_where_it_was_found(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("运营" if name != "c.txt" else "推广", encoding="utf-8")
    (tmp_path / "a.txt.url").write_text("https://example.com/p", encoding="utf-8")
    first = outcomes(tmp_path)
    assert len({first[n].doc_id for n in ("a.txt", "b.txt", "c.txt")}) == 3  # same bytes, another place
    assert outcomes(tmp_path)["a.txt"].doc_id == first["a.txt"].doc_id  # stable
    (tmp_path / "b.txt.url").write_text("https://example.com/p", encoding="utf-8")
    again = outcomes(tmp_path)
    assert again["a.txt"].doc_id == again["b.txt"].doc_id  # the same URL and bytes: one page


# --- hostile inputs (issue 17: each of these stalled, crashed or misread the night) ----------------


def test_fifo_and_devices_are_skipped_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.html")  # opening it for reading would block until a writer came
    (tmp_path / "zero.txt").symlink_to("/dev/zero")  # read without bound (outside RAW_DIR too)
    with time_limit(20):
        got = outcomes(tmp_path)
    assert got["p.html"].outcome == "skipped" and "regular file" in got["p.html"].reason
    assert got["zero.txt"].outcome == "skipped"


def test_symlinks_are_followed_only_inside_raw_dir(tmp_path: Path) -> None:
    raw, outside = tmp_path / "raw", tmp_path / "secret.txt"
    raw.mkdir()
    outside.write_text("产品运营负责用户增长。", encoding="utf-8")
    (raw / "a.txt").write_text("内容运营负责内容。", encoding="utf-8")
    (raw / "out.txt").symlink_to(outside)
    (raw / "in.txt").symlink_to(raw / "a.txt")
    (raw / "a.txt.url").symlink_to(outside)  # a sidecar is a URL, never a way to read a file outside
    got = outcomes(raw)
    assert got["a.txt"].source_url is None
    assert got["out.txt"].outcome == "skipped" and "outside RAW_DIR" in got["out.txt"].reason
    assert isinstance(got["in.txt"], Document)


def test_file_names_that_are_not_utf8_are_escaped_losslessly(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"bad\xff.txt")).write_text("内容运营", encoding="utf-8")
    (tmp_path / "back\\xff.txt").write_text("用户运营", encoding="utf-8")  # a real name that looks escaped
    names = set(outcomes(tmp_path))
    assert names == {"bad\\xff.txt", "back\\\\xff.txt"}
    assert all(name.encode("utf-8") for name in names)  # storable anywhere


def test_a_hash_in_a_file_name_is_no_record_id(tmp_path: Path) -> None:
    (tmp_path / "x#1.txt").write_text("内容运营", encoding="utf-8")
    (tmp_path / "f.jsonl").write_text(json.dumps({"text": "推广"}), encoding="utf-8")
    got = outcomes(tmp_path)
    assert got["x#1.txt"].input_path == "x#1.txt"
    assert got["f.jsonl#1"].input_path == "f.jsonl"


def test_deeply_nested_jsonl_record_fails_alone(tmp_path: Path) -> None:
    lines = ["[" * 100_000, json.dumps({"text": "推广"})]
    (tmp_path / "deep.jsonl").write_text("\n".join(lines), encoding="utf-8")
    got = outcomes(tmp_path)
    assert got["deep.jsonl#1"].outcome == "failed" and "nested too deeply" in got["deep.jsonl#1"].reason
    assert isinstance(got["deep.jsonl#2"], Document)


def warc_record(url: str | None, body: bytes) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url or "https://s/x", "response", payload=io.BytesIO(body),
                                                  http_headers=headers))
    data = buf.getvalue()
    return data if url else data.replace(b"WARC-Target-URI: https://s/x\r\n", b"")


def test_misframed_warc_records_fail_with_a_reason(tmp_path: Path) -> None:
    a = warc_record("https://s/a", "<p>市场推广负责获客。</p>".encode() * 20)
    b = warc_record("https://s/b", "<p>内容运营负责内容。</p>".encode() * 20)
    length = re.search(rb"Content-Length: (\d+)", a)
    assert length is not None
    inflated = a.replace(length.group(0), b"Content-Length: %d" % (int(length.group(1)) + 200), 1)
    (tmp_path / "inflated.warc").write_bytes(inflated + b)  # record a would swallow part of b
    (tmp_path / "truncated.warc").write_bytes(a + b[:-100])  # the file ends inside record b
    (tmp_path / "no_uri.warc").write_bytes(warc_record(None, b"<p>x</p>"))
    got = outcomes(tmp_path)
    assert got["inflated.warc#1"].outcome == "failed" and "Content-Length" in got["inflated.warc#1"].reason
    assert got["inflated.warc"].outcome == "failed"
    assert isinstance(got["truncated.warc#1"], Document) and got["truncated.warc#1"].raw.count(b"<p>") == 20
    assert got["truncated.warc#2"].outcome == "failed" and "Content-Length" in got["truncated.warc#2"].reason
    assert got["no_uri.warc"].outcome == "failed" and "WARC-Target-URI" in got["no_uri.warc"].reason


def test_a_crash_while_reading_one_input_fails_that_input(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.txt").write_text("内容运营", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "推广"}), encoding="utf-8")

    def broken(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(read, "_read_jsonl", broken)
    got = outcomes(tmp_path)
    assert got["b.jsonl"].outcome == "failed" and "internal error: KeyError" in got["b.jsonl"].reason
    assert isinstance(got["a.txt"], Document)
