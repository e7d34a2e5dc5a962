"""A line classifier for site chrome: the lines no rule names, judged by their shape.

Text that has lost its HTML (a text dump, crawler text, the lines extraction keeps) still shows
which lines are furniture: chrome is short, ends without a sentence stop, has few of the function
words prose cannot do without (的, 了, 是, 在 … jusText's stop-word idea), many digits, Latin
letters or symbols, a `label：value` shape, a date, a counter, an address, or the vocabulary of
site furniture (浏览, 收藏, 分享, 登录, 上一篇 …). Each feature is a number in [0, 1]; a logistic
model weighs them. The weights are data (`data/chrome_model.toml`), fitted by
`scripts/fit_chrome.py` on the shared samples and measured there on sites the fit did not see.

Context decides with the line, as in jusText (`chrome_lines`). Only short lines are judged
(`max_chars`): a long paragraph is article, or a notice that a rule names. The boilerplate stage
runs it on text dumps, whose structure is gone; an HTML page's lines come out of extraction,
which judged them by their elements already (on the html-dev pages the classifier took list
entries of articles: timelines, discographies).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..text import CLAUSE_MARKS, FUNCTION_CHARS, is_cjk
from . import logistic

SENTENCE_END = ("。", "！", "？", "；", "…", "!", "?", ";")
PROSE_PUNCT = frozenset("，。、；：！？“”‘’（）《》,.;:!?()\"' ")
NUMBERED = re.compile(r"^\s*([（(]?[一二三四五六七八九十]+[)）、.]|[（(]?\d{1,2}[)）、.．]\s*\S"
                      r"|第[一二三四五六七八九十\d]+[章节部分])")
LABEL_VALUE = re.compile(r"^[^：:，。]{1,8}[：:]\s*\S")
DATETIME = re.compile(r"\d{4}[-/.年]\d{1,2}([-/.月]\d{1,2})?|\d{1,2}[-/月]\d{1,2}日?\s*\d{1,2}:\d{2}|\d{1,2}:\d{2}")
COUNTER = re.compile(r"\d[\d,.]*\s*[万wk]?\s*(次|人看过|人阅读|人浏览|条评论|条回复|个回答|评论|浏览|阅读|收藏|点赞|"
                     r"赞|下载|分享|回复|关注|粉丝)|\d+\s*(秒|分钟|小时|天|周|个月|年)前")  # counts and ages, not dates
CONTACT = re.compile(r"https?://|www\.|\.(com|cn|net|org)\b|@[A-Za-z0-9-]+\.|\b1[3-9]\d{9}\b|\b\d{3,4}-\d{7,8}\b|QQ|微信")
CHROME_WORDS = re.compile(
    "浏览|收藏|评论|分享|点赞|举报|登录|注册|上一篇|下一篇|相关推荐|相关阅读|推荐阅读|标签|责任编辑|来源|发布于|"
    "发布时间|阅读|字数|推荐答案|问题描述|首页|关注|下载|扫码|二维码|热线|版权|免责|投稿|作者|编辑|更多|"
    "返回|打印|订阅|置顶|回复|网友|用户名|密码|会员|广告|导航|栏目|频道|专题|查看|点击|热门|最新|排行")
FEATURES = ("bias", "length", "short", "sentence_end", "clauses", "function_words", "digits", "latin", "symbols",
            "label_value", "datetime", "counter", "contact", "chrome_words", "tokens", "numbered")


def features(line: str) -> tuple[float, ...]:
    """The line's features, each in [0, 1], in the order of `FEATURES`."""
    n = max(len(line), 1)
    cjk = sum(1 for ch in line if is_cjk(ch))
    digits = sum(ch.isdigit() for ch in line)
    latin = sum(ch.isascii() and ch.isalpha() for ch in line)
    symbols = sum(1 for ch in line if not (ch.isalnum() or ch.isspace() or ch in PROSE_PUNCT))
    tokens = len(line.split())
    return (
        1.0,
        min(math.log1p(len(line)) / math.log1p(200), 1.0),
        float(len(line) <= 10),
        float(line.rstrip("”’\"）)").endswith(SENTENCE_END)),
        min(sum(ch in CLAUSE_MARKS for ch in line) * 10 / n, 1.0),
        min(sum(ch in FUNCTION_CHARS for ch in line) * 5 / max(cjk, 1), 1.0) if cjk else 0.0,
        digits / n,
        latin / n,
        symbols / n,
        float(len(line) <= 30 and bool(LABEL_VALUE.search(line))),
        float(bool(DATETIME.search(line))),
        float(bool(COUNTER.search(line))),
        float(bool(CONTACT.search(line))),
        min(len(CHROME_WORDS.findall(line)) / 2, 1.0),
        min((tokens - 1) / 4, 1.0) if tokens > 1 else 0.0,
        float(bool(NUMBERED.search(line))),  # a numbered heading or list item is article
    )


@dataclass(frozen=True, slots=True)
class Model:
    """Logistic weights over `FEATURES`, and the context thresholds."""

    weights: tuple[float, ...]
    sure: float = 0.95  # chrome on its own
    lean: float = 0.6  # chrome when both neighbours are
    max_chars: int = 40  # longer lines are not judged
    short_chars: int = 20  # only fragments this short take their neighbours' class

    def probability(self, line: str) -> float:
        return logistic.probability(self.weights, features(line))

    def why(self, line: str) -> str:
        """The features that pushed the line towards chrome most, for `removed.parquet` and `explain`."""
        return logistic.why(self.weights, features(line), FEATURES, +1)


def load_model(path: Path) -> Model:
    """The fitted model; a file whose features are not this code's is a ConfigError."""
    return logistic.load(path, FEATURES, "chrome model", "context", Model)


def chrome_lines(lines: Sequence[str], model: Model, removed: Sequence[bool] = ()) -> dict[int, float]:
    """Indexes of the lines that are chrome, with their probability. `removed` marks lines that
    rules already took out: they count as chrome neighbours (chrome comes in runs).

    Chrome comes in runs at the head and the tail of a page, before the first and after the last
    prose line (longer than `max_chars`): there a line goes when the model is sure, or when it is a
    fragment (short, mostly not Han: "»", "2.", "--"), the model leans that way and both its
    neighbours are chrome; a short Chinese phrase between two chrome lines may be the headline.
    Between them, in the article, only a line the model is sure of and whose neighbours it does not
    suspect goes: a run of short dated lines inside an article is a list (a timeline, a
    discography), not furniture."""
    ruled = list(removed) + [False] * (len(lines) - len(removed))
    judged = [len(line) <= model.max_chars and not ruled[i] for i, line in enumerate(lines)]
    p = [model.probability(line) if judged[i] else 0.0 for i, line in enumerate(lines)]
    prose = [i for i, line in enumerate(lines) if not ruled[i] and len(line) > model.max_chars]
    first, last = (prose[0], prose[-1]) if prose else (len(lines), -1)
    bad = [ruled[i] or p[i] >= model.sure for i in range(len(lines))]

    def neighbour_bad(j: int) -> bool:
        return 0 <= j < len(lines) and bad[j]  # the page's edge is not: a short headline opens many pages

    def suspect(j: int) -> bool:
        return 0 <= j < len(lines) and judged[j] and p[j] >= model.lean

    out: dict[int, float] = {}
    for i, line in enumerate(lines):
        if not judged[i]:
            continue
        if first < i < last:
            if p[i] >= model.sure and not suspect(i - 1) and not suspect(i + 1):
                out[i] = p[i]
            continue
        if i + 1 < len(lines) and i + 1 in prose[:1]:
            continue  # the line just above the article's first prose is its heading
        fragment = len(line) <= model.short_chars and sum(map(is_cjk, line)) < len(line) / 2
        if p[i] >= model.sure or (p[i] >= model.lean and fragment and neighbour_bad(i - 1) and neighbour_bad(i + 1)):
            out[i] = p[i]
    return out
