"""Claims stage: keep the sentences that state something about a role, drop the rest with a reason.

Segmenting keeps every sentence of the article; many are not claims: meta-text about the article
(本文将从…), announcements of a list, questions, rhetoric, examples and anecdotes, headings, sentences
about the market or a company on a role page. Each candidate is judged by its shape (stop, length,
clauses, function words, question and exclamation marks, second person, meta, example and narrative
words, how it starts), where it stands (first, last, a bare line before prose, in a list) and how
its roles were found (`Claim.basis`: its own subject, its paragraph's, its heading's or only the
page's: a sentence that names no role under a heading that names none is seldom about one). Each
feature is a number in [0, 1]; a logistic model weighs them. The weights are data
(`data/claim_model.toml`), fitted by `scripts/fit_claims.py` on the shared samples' labelled
sentences and measured there on sites the fit did not see. A sentence the model gives less than
`keep` goes, recorded as `claims.not_claim` with the features that decided. Before the model, the
page's last sentence goes when the end of the text cut it off (`claims.cut_off`: no closing mark,
longer than a list item or a heading), and so does a sentence that a rule of `data/claim_rules.toml`
names by its form alone (the article talking about itself, the announcement of a list, a template's
blank).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import ClaimsConfig, Config, ConfigError
from ..model import Claim, Document, Drop, Removal, Stage
from ..text import CLAUSE_MARKS, FUNCTION_CHARS
from . import logistic
from .roles import OFF_TOPIC

STOP = ("。", "！", "；", "…", "!", ";")
QUESTION = re.compile(r"[？?]|什么|如何|怎么|怎样|哪些|哪个|为什么|为何|是否|吗[。，]?$|呢[。，]?$")
EXCLAIM = re.compile(r"[！!]|[吧啊呀哦哈嘛啦][。！，]?$")
SECOND_PERSON = re.compile(r"你|您")
META = re.compile(r"本文|本篇|这篇文章|文章|笔者|小编|今天|咱们|给大家|为大家|带你|聊聊|来看看|了解一下|盘点|详解|"
                  r"一起来|简单说说|介绍")
ANNOUNCE = re.compile(r"(?:以下|如下|下面|下列)[^，。；]{0,12}[。：:]?$|具体如下|分别是[。：:]?$")
EXAMPLE = re.compile(r"^(?:例如|比如|譬如|举个例子|举例|比方说|像是?|如)|案例|例子")
NARRATIVE = re.compile(r"曾经|当时|那时|后来|去年|前年|那天|记得|刚开始|\d{4}年|年前")
PRONOUN_START = re.compile(r"^(?:这|那|其|它|他|她|此|该)")
CONNECTIVE_START = re.compile(r"^(?:而|但|所以|因此|并且|同时|此外|另外|然而|不过|因为|于是|也|还|并)")
LABEL = re.compile(r"^[^，。；：:]{2,14}[：:]")
NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+|[一二三四五六七八九十]+[：:]|第[一二三四五六七八九十\d]+)")
MARKET = re.compile(r"市场规模|亿元|万元|增长率|同比|百分之|\d+(?:\.\d+)?%|政府|政策|经济|公司|企业|品牌|产品")
BASES = ("subject", "paragraph", "heading", "page", "mention")
FEATURES = ("bias", "length", "short", "stop", "open", "clauses", "function_words", "digits", "latin", "question",
            "exclaim", "second_person", "meta", "example", "narrative", "pronoun_start",
            "connective_start", "label", "market", "in_list", "first", "last", "last_open",
            "typed", *(f"basis_{b}" for b in BASES), "page_subjects", "announce", "numbered",
            "bare_line", "next_prose", "bare_neighbour")


def _stops(text: str) -> bool:
    return text.rstrip("”’\"）)」』").endswith(STOP)


def _ends(text: str) -> bool:
    """Whether the text ends as a sentence or a clause can: the end of an excerpt cuts mid-word."""
    return _stops(text) or text.endswith(("：", ":", "？", "?", "”", "）", ")", "」", "》"))


def cut_off(claims: Sequence[Claim], index: int, min_chars: int) -> bool:
    """Whether `claims[index]` is the page's last sentence, cut off by the end of the text."""
    text = claims[index].text
    return index == len(claims) - 1 and len(text) > min_chars and not _ends(text)


def _bare(claim: Claim, text: str) -> bool:
    """A whole line of at most `BARE_CHARS` with no stop: a heading, a list item or a label."""
    starts = claim.char_start == 0 or text[claim.char_start - 1] == "\n"
    whole = starts and text[claim.char_end:claim.char_end + 1] in ("", "\n")
    return whole and len(claim.text) <= BARE_CHARS and not _stops(claim.text)


BARE_CHARS = 30


def features(claims: Sequence[Claim], index: int, text: str, page_subjects: float) -> tuple[float, ...]:
    """The features of `claims[index]`, each in [0, 1], in the order of `FEATURES`; `text` is the
    page's clean text (the claims' offsets point into it), `page_subjects` the share of the page's
    claims that name their own subject."""
    claim = claims[index]
    words = claim.text
    n = max(len(words), 1)
    han = sum(1 for ch in words if "\u4e00" <= ch <= "\u9fff")
    stop = _stops(words)
    last = index == len(claims) - 1
    bare = _bare(claim, text)
    after = claims[index + 1] if not last else None
    before = claims[index - 1] if index else None
    return (
        1.0,
        min(math.log1p(len(words)) / math.log1p(200), 1.0),
        float(len(words) <= 12),
        float(stop),
        float(not stop and not words.endswith(("：", ":", "，", ",", "？", "?"))),
        min(sum(ch in CLAUSE_MARKS for ch in words) * 10 / n, 1.0),
        min(sum(ch in FUNCTION_CHARS for ch in words) * 5 / max(han, 1), 1.0) if han else 0.0,
        sum(ch.isdigit() for ch in words) / n,
        sum(ch.isascii() and ch.isalpha() for ch in words) / n,
        float(bool(QUESTION.search(words))),
        float(bool(EXCLAIM.search(words))),
        float(bool(SECOND_PERSON.search(words))),
        float(bool(META.search(words))),
        float(bool(EXAMPLE.search(words))),
        float(bool(NARRATIVE.search(words))),
        float(bool(PRONOUN_START.match(words))),
        float(bool(CONNECTIVE_START.match(words))),
        float(bool(LABEL.match(words))),
        min(len(MARKET.findall(words)) / 2, 1.0),
        float(bool(claim.section) and claim.section[-1].endswith(("：", ":"))),
        float(index == 0),
        float(last),
        float(last and not stop),
        float(claim.claim_type != "other"),
        *(float(claim.basis == b) for b in BASES),
        page_subjects,
        float(bool(ANNOUNCE.search(words))),
        float(bool(NUMBERED.match(words))),
        float(bare),
        float(bare and after is not None and _stops(after.text) and len(after.text) > len(words) + 10),
        float(bare and any(c is not None and _bare(c, text) for c in (before, after))),
    )


@dataclass(frozen=True, slots=True)
class Model:
    """Logistic weights over `FEATURES` (the probability that a candidate is a claim) and the bar."""

    weights: tuple[float, ...]
    keep: float = 0.5  # a candidate below this probability is not a claim

    def probability(self, x: Sequence[float]) -> float:
        return logistic.probability(self.weights, x)

    def why(self, x: Sequence[float]) -> str:
        """The features that pushed the candidate away from being a claim most."""
        return logistic.why(self.weights, x, FEATURES, -1)


def load_model(path: Path) -> Model:
    """The fitted model; a file whose features are not this code's is a ConfigError."""
    return logistic.load(path, FEATURES, "claim model", "threshold", Model)


def subject_share(claims: Sequence[Claim]) -> float:
    """The share of the page's claims that name their own subject (a feature of every one)."""
    return sum(c.basis == "subject" for c in claims) / len(claims) if claims else 0.0


def page_features(doc: Document) -> list[tuple[float, ...]]:
    """Every claim's features on its page."""
    share = subject_share(doc.claims)
    return [features(doc.claims, i, doc.text, share) for i in range(len(doc.claims))]


Rules = tuple[tuple[str, re.Pattern[str]], ...]


def ruled(claims: Sequence[Claim], index: int, cut_min_chars: int, rules: Rules) -> str | None:
    """The id of the rule that takes `claims[index]` before the model: cut off, or named by its form."""
    if cut_off(claims, index, cut_min_chars):
        return "claims.cut_off"
    text = claims[index].text
    return next((rule for rule, pattern in rules if pattern.search(text)), None)


def load_rules(path: Path) -> Rules:
    """(id, pattern) of each rule in the file, in order."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return tuple((r["id"], re.compile(r["pattern"])) for r in data.get("rule", []))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, re.error) as exc:
        raise ConfigError(f"{path}: cannot load the claim rules: {exc}") from None


def make(cfg: ClaimsConfig, config: Config) -> Stage:
    model = load_model(config.data_file(cfg.model))
    rules = load_rules(config.data_file(cfg.rules))

    def claims(doc: Document) -> Document | Drop:
        kept: list[Claim] = []
        removed = [r for r in doc.removed if r.stage != "claims"]  # run again after templates: judged afresh
        share = subject_share(doc.claims)
        for i, claim in enumerate(doc.claims):
            if rule := ruled(doc.claims, i, cfg.cut_min_chars, rules):
                removed.append(Removal("claims", rule, claim.text))
                continue  # the model need not look at it
            x = features(doc.claims, i, doc.text, share)
            if model.probability(x) >= model.keep:
                kept.append(claim)
            else:
                removed.append(Removal("claims", "claims.not_claim", claim.text, why=model.why(x)))
        return replace(doc, claims=tuple(kept), removed=tuple(removed))

    return claims


# Why a page gives no claims, told from what its stages recorded: `explain` says it of one page, the
# report and the night's summary count the pages of each.
NO_CLAIMS = {
    "off_topic": "not about roles (none is the subject of title or sentences)",
    "no_text": "no text left once the page is cleaned",
    "not_claims": "every sentence about a role was judged no claim",
    "no_role": "no sentence names a role, nor its heading or the title",
}


def why_none(rules: Collection[str], kept_chars: int) -> str:
    """The NO_CLAIMS key of a page without claims, from its removals' rule ids and the length of its
    clean text."""
    if OFF_TOPIC in rules:
        return "off_topic"
    if not kept_chars:
        return "no_text"
    if any(rule.startswith("claims.") for rule in rules):  # this stage sees only sentences about a role
        return "not_claims"
    return "no_role"
