from __future__ import annotations

from pipeline import extract
from pipeline.config import ExtractConfig
from pipeline.model import Document, Drop

ARTICLE = """<html><head><title>运营岗位说明</title></head><body>
<nav><a href="/">首页</a> <a href="/a">文章</a> <a href="/b">关于我们</a></nav>
<article><h1>运营岗位说明</h1>
<p>产品运营是指围绕产品功能开展的运营工作，目标是让更多用户用好产品，并把反馈带回研发团队。</p>
<p>内容运营负责选题、生产与分发内容，用持续的优质内容吸引用户并提升用户的活跃程度。</p>
<p>用户运营关注拉新、留存与促活，需要对不同层级的用户制定不同的运营策略和触达方式。</p>
</article><footer>联系我们 | 网站地图</footer></body></html>"""


def run(doc: Document) -> Document | Drop:
    return extract.make(ExtractConfig())(doc)


def test_html_main_text_and_title() -> None:
    doc = run(Document("a.html", "html", content=ARTICLE))
    assert doc.title == "运营岗位说明"
    assert any("产品运营是指" in line for line in doc.lines)
    assert not any("网站地图" in line for line in doc.lines)


def test_wrapper_gives_url_and_title() -> None:
    wrapped = f'<text id="https://example.com/p" title="包装标题" encoding="utf-8">{ARTICLE}</text>'
    doc = run(Document("a.html", "html", content=wrapped))
    assert doc.source_url == "https://example.com/p"
    assert any("内容运营负责" in line for line in doc.lines)


def test_script_before_html_does_not_hide_the_page() -> None:
    doc = run(Document("a.html", "html", content="<script>var a = '<b>';</script>\n" + ARTICLE))
    assert any("用户运营关注" in line for line in doc.lines)


def test_fallback_when_extractor_finds_nothing() -> None:
    doc = run(Document("a.html", "html", content="<html><body><td>运营就是连接用户</td></body></html>"))
    assert doc.lines == ("运营就是连接用户",)


def test_text_dump_lines() -> None:
    doc = run(Document("a.txt", "text", content="  第一行 \n\n第二行\n"))
    assert doc.lines == ("第一行", "第二行")


def test_empty_page_dropped() -> None:
    assert isinstance(run(Document("a.html", "html", content="<html><body></body></html>")), Drop)
