"""Boilerplate stage: remove site furniture from the extracted lines, recording each removal.

The rules are data (`data/boilerplate.toml`), each with an id `family.name`:
- `line`: a line matching `pattern` (and not longer than `max_chars`) is removed whole;
- `strip`: only the matched span is cut out of the line (a file-type suffix glued to a title);
- `sentence`: a sentence (up to its 。！？) matching `pattern` is cut out of its paragraph: farm
  intros and outros sit inside the paragraphs they pad;
- `dense`: a line with at least `min_hits` matches of `pattern` is removed whole (an advert is a
  paragraph of sales words; one such word is prose);
- `listing`: a page with `min_entries` or more entry headers (title and timestamp) is a list of
  entries, like a blog's front page; the first entry is its main text, the rest goes;
- `block`: from a line matching `start` to the line matching `end`, inclusive; without `end`, the
  block runs on while lines stay short (`item_max_chars`) and match `item_pattern` if given, which
  is the shape of related-item lists and tables of contents; a block starting in the last
  `tail_fraction` of the page runs to its end (nothing after a page's related list is article);
  with `only_in_tail`, a start line before that part is not furniture at all (a reply header).
Besides the pack, the page's own title repeated inside the text (captions, sticky headers) is kept
once, and a run of three or more Han characters outside GB 2312 (after normalising to Simplified,
that is noise injected into a word, never text) is cut (`noise.rare_chars`). Rules run on
normalised text, so they are written once, in Simplified Chinese. A text dump's title is found in
its head, with the site's header above it (`find_head`).
"""

from __future__ import annotations

import logging
import re
import re._constants as sre_constants  # the regex parser: which words a rule needs (see required_words)
import re._parser as sre_parser
import tomllib
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby, islice
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from ..config import BoilerplateConfig, Config, ConfigError
from ..model import Document, Drop, Removal, Stage
from ..text import fold, is_cjk, is_common
from .chrome import Model, chrome_lines, load_model

log = logging.getLogger(__name__)

STAGE = "boilerplate"
DEFAULT_MAX_CHARS = 120
NO_RULE = -1
SEEN_ELEMENTS = 50_000  # distinct (tag, id, class, style) remembered: a few MB at most
SEEN_LINES = 50_000  # distinct short lines whose verdict is remembered: a site's chrome repeats on every page
SEEN_LINE_CHARS = 200  # longer lines are prose, seldom seen twice
TAG_NAMES = re.compile(r"[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*")
TITLE_MAX_CHARS = 60
TITLE_SEPARATORS = re.compile(r"_+|\s+[-–—|｜]+\s+|--+|\s*[|｜]\s*")
NO_LIMIT = 1 << 30
SENTENCE_MAX_CHARS = 200  # a sentence rule's default limit: a longer sentence is article
SPACE_BEFORE_STOP = re.compile(r"\s+(?=[。，！？；：、）】》])")  # left by a cut before a stop
SENTENCES = re.compile(r"[^。！？!?]*[。！？!?]+[”’\"）)]*|[^。！？!?]+$")
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
RARE_RUN = 3
NOISE_RULE = "noise.rare_chars"
COUNTER_RULE = "head.counter"
SUMMARY_RULE = "farm.summary"
SUMMARY_LABEL = re.compile(r"^[【\[]?(摘要|内容摘要|内容提要|提要|核心提示|导语|导读)[】\]]?\s*[：:]\s*")
SUMMARY_MIN_CHARS = 8  # shorter sentences are too common to prove a repeat
CHROME_RULE = "chrome.line"  # the classifier's removals; `why` names the features that decided
# The head of a text dump (find_head).
HEAD_LINES = 12  # the head is at most this many lines
HEAD_BODY_LINES = 30  # lines of article a headline candidate is compared with
HEAD_OVERLAP = 0.35  # a header line shares less than this of its character pairs with the article,
HEAD_MARGIN = 0.2  # and this much less than the headline does
HEADER_MAX_CHARS = 30
HEADLINE_MIN_CHARS = 4
PROSE_CHARS = 30  # a line this long with a clause mark is prose
CLAUSE = re.compile(r"[，。；！？,;]")
SECTION = re.compile(r"^([一二三四五六七八九十]+|\d+(\.\d+)*)([、.．）)]|\s)|^第[一二三四五六七八九十\d]+[章节部分]"
                     r"|^(引言|导读|前言|摘要|目录)[：:]")  # a numbered section or a label: the article has begun
HANDLE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{1,15}")
TRAIL_PARTS = re.compile(r"\s+[-–—]\s+")
TRAIL = re.compile(r"[^。，,]{1,40}(\s+[-–—]\s+[^。，,]{1,60}){2,}")
QUESTION_OR_TITLE = re.compile(r"[？?《》【】]")  # a question or a bracketed title is never a site's header
COUNTER_TAIL = re.compile(r"(?<=[\u4e00-\u9fff])(?!(19|20)\d\d$)\d{3,6}$")
BRACKET_LEAD = re.compile(r"^[#\s]*[【《]([^】》]{4,40})[】》]\s*\S")


@dataclass(frozen=True, slots=True)
class LineRule:
    id: str
    pattern: re.Pattern[str]
    max_chars: int
    min_hits: int = 1  # `dense` rules: matches needed on the line


@dataclass(frozen=True, slots=True)
class BlockRule:
    id: str
    start: re.Pattern[str]
    end: re.Pattern[str] | None
    max_lines: int
    item_max_chars: int
    start_max_chars: int
    item_pattern: re.Pattern[str] | None
    tail_fraction: float
    only_in_tail: bool


@dataclass(frozen=True, slots=True)
class ListingRule:
    """A page that is a list of whole entries (a blog's front page): its main text is the first."""

    id: str
    entry: re.Pattern[str]
    min_entries: int


@dataclass(frozen=True, slots=True)
class ContainerRule:
    """An HTML element that is furniture as a whole, by tag name, id/class token or inline style."""

    id: str
    tags: frozenset[str]
    attr: re.Pattern[str] | None
    style: re.Pattern[str] | None
    max_share: float


R = TypeVar("R", LineRule, BlockRule)


@dataclass(frozen=True, slots=True)
class Hinted(Generic[R]):
    """Rules in order, with what spares a line most of them: the words one of which every match of a hinted
    rule contains (`required_words`), as one regex. A line without any of them can only match the
    rules no word could be worked out for; a line with some is tried on the rules whose own words it
    holds (`checks`: a literal search, cheaper than the rule). Rules with a length limit are banded
    by it: a line is only checked against the rules that admit its length, with their words alone (a
    long paragraph holds some rule's word nearly always; it seldom is short enough for that rule)."""

    rules: tuple[R, ...]
    hint: re.Pattern[str] | None
    unhinted: tuple[R, ...]
    checks: tuple[re.Pattern[str] | None, ...] = ()  # each rule's words (None: the rule is always tried)
    cutoffs: tuple[int, ...] = ()  # the length limits, ascending: band k admits lines up to cutoffs[k]
    bands: tuple[Hinted[R], ...] = ()  # the rules admitting each band's lines

    @classmethod
    def of(cls, rules: list[R], pattern: Callable[[R], re.Pattern[str]],
           limit: Callable[[R], int] | None = None) -> Hinted[R]:
        words = [required_words(pattern(rule)) for rule in rules]
        hinted = {w for ws in words if ws for w in ws}
        unhinted = tuple(rule for rule, ws in zip(rules, words, strict=True) if not ws)
        checks = tuple(_alternation(ws) if ws else None for ws in words)
        flat = cls(tuple(rules), _alternation(hinted), unhinted, checks)
        if limit is None:
            return flat
        cutoffs = tuple(sorted({limit(rule) for rule in rules}))
        return replace(flat, cutoffs=cutoffs, bands=tuple(cls.of([r for r in rules if limit(r) >= c], pattern)
                                                         for c in cutoffs))

    def __iter__(self) -> Iterator[R]:
        return iter(self.rules)

    def for_line(self, line: str) -> tuple[R, ...]:
        """The rules that can match the line, in order."""
        here = self
        if self.bands:
            k = bisect_left(self.cutoffs, len(line))
            if k == len(self.bands):
                return ()  # longer than any rule admits
            here = self.bands[k]
        if here.hint is None:
            return here.rules
        if not here.hint.search(line):
            return here.unhinted
        return tuple(rule for rule, check in zip(here.rules, here.checks, strict=True)
                     if check is None or check.search(line))


def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for literal words, longest first."""
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


class Verdict(NamedTuple):
    line: str  # the line after the cuts
    cuts: tuple[tuple[str, str], ...]  # (rule id, text cut)
    rule: str | None  # the line rule that removes the rest


@dataclass(frozen=True, slots=True)
class RulePack:
    lines: Hinted[LineRule]
    strips: Hinted[LineRule]
    blocks: Hinted[BlockRule]
    sentences: Hinted[LineRule] = Hinted((), None, ())
    dense: Hinted[LineRule] = Hinted((), None, ())
    containers: tuple[ContainerRule, ...] = ()
    listings: tuple[ListingRule, ...] = ()
    container_tags: frozenset[str] = frozenset()  # every container rule's tags: the rest need an attribute
    _seen: dict[tuple[str, str | None, str | None, str | None], int] = field(
        default_factory=dict, compare=False, repr=False)
    _verdicts: dict[str, Verdict] = field(default_factory=dict, compare=False, repr=False)

    def container_rule(self, tag: str, ident: str | None, cls: str | None, style: str | None) -> ContainerRule | None:
        """The first container rule an element matches by tag name, an id/class token or inline style.

        Memoised on the element's tag and attributes: a site repeats the same few on every page.
        """
        key = (tag, ident, cls, style)
        index = self._seen.get(key)
        if index is None:
            if len(self._seen) >= SEEN_ELEMENTS:
                self._seen.clear()
            tokens = f"{ident or ''} {cls or ''}".lower().split()
            index = next((i for i, rule in enumerate(self.containers)
                          if tag in rule.tags
                          or (rule.attr is not None and any(rule.attr.search(t) for t in tokens))
                          or (style and rule.style is not None and rule.style.search(style))), NO_RULE)
            self._seen[key] = index
        return self.containers[index] if index != NO_RULE else None

    def verdict(self, line: str) -> Verdict:
        """What the line-level rules make of a line: the line after the strip, sentence and noise
        cuts, the cuts, and the line rule that removes what is left (None: none does). Memoised for
        short lines: the same chrome comes back on every page of a site."""
        found = self._verdicts.get(line)
        if found is None:
            cut, cuts = apply_strips(line, self.strips)
            cut, said = apply_sentences(cut, self.sentences)
            cut, noise = cut_noise(cut)
            found = Verdict(cut, tuple(cuts + said + noise), _line_rule(cut, self) if cut else None)
            if len(line) <= SEEN_LINE_CHARS:
                if len(self._verdicts) >= SEEN_LINES:
                    self._verdicts.clear()
                self._verdicts[line] = found
        return found


def _compile(rule_id: str, pattern: str, path: Path) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{path.name}: rule {rule_id}: bad pattern: {exc}") from None


def load_rules(path: Path) -> RulePack:
    """Parse and compile a rule pack; a malformed rule is a ConfigError naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot load boilerplate rules: {exc}") from None
    unknown = set(data) - {"line", "strip", "sentence", "dense", "block", "container", "listing"}
    if unknown:
        raise ConfigError(f"{path.name}: unknown rule kind(s): {', '.join(sorted(unknown))}")
    seen: set[str] = set()

    def rule_id(entry: dict) -> str:
        rid = entry.get("id")
        if not isinstance(rid, str) or not rid or rid in seen:
            raise ConfigError(f"{path.name}: every rule needs a unique id (bad or repeated: {rid!r})")
        seen.add(rid)
        return rid

    def line_rules(kind: str, max_chars: int = DEFAULT_MAX_CHARS) -> Hinted[LineRule]:
        out = []
        for entry in data.get(kind, []):
            rid = rule_id(entry)
            out.append(LineRule(rid, _compile(rid, entry["pattern"], path),
                                int(entry.get("max_chars", max_chars)), int(entry.get("min_hits", 1))))
        # strips cut any line, a sentence rule's limit is the sentence's: only whole-line rules are banded
        banded = kind in ("line", "dense")
        return Hinted.of(out, lambda rule: rule.pattern, (lambda rule: rule.max_chars) if banded else None)

    blocks = []
    for entry in data.get("block", []):
        rid = rule_id(entry)
        end = entry.get("end")
        item = entry.get("item_pattern")
        blocks.append(BlockRule(
            rid, _compile(rid, entry["start"], path), _compile(rid, end, path) if end else None,
            int(entry.get("max_lines", 400)), int(entry.get("item_max_chars", 40)),
            int(entry.get("start_max_chars", DEFAULT_MAX_CHARS)), _compile(rid, item, path) if item else None,
            float(entry.get("tail_fraction", 0.0)), bool(entry.get("only_in_tail", False))))
    containers = []
    for entry in data.get("container", []):
        rid = rule_id(entry)
        attr, style = (_compile(rid, entry[k], path) if k in entry else None for k in ("attr", "style"))
        tag = entry.get("tag", "")
        if tag and not (isinstance(tag, str) and TAG_NAMES.fullmatch(tag)):
            raise ConfigError(f"{path.name}: container rule {rid}: tag must be element names joined by |, "
                              f"like 'nav|aside' (got {tag!r})")
        if not tag and attr is None and style is None:
            raise ConfigError(f"{path.name}: container rule {rid} needs tag, attr or style")
        containers.append(ContainerRule(rid, frozenset(tag.split("|")) if tag else frozenset(), attr, style,
                                        float(entry.get("max_share", 0.5))))
    listings = []
    for entry in data.get("listing", []):
        rid = rule_id(entry)
        listings.append(ListingRule(rid, _compile(rid, entry["entry"], path), int(entry.get("min_entries", 3))))
    return RulePack(line_rules("line"), line_rules("strip", NO_LIMIT),
                    Hinted.of(blocks, lambda rule: rule.start, lambda rule: rule.start_max_chars),
                    line_rules("sentence", SENTENCE_MAX_CHARS), line_rules("dense"),
                    tuple(containers), tuple(listings), frozenset().union(*(c.tags for c in containers)))


def required_words(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Literal strings one of which every match of the pattern contains, or None when there are none
    (a pattern of digits and optional parts). Worked out from the parsed pattern: a run of literal
    characters in sequence, the union over an alternation's branches, or what a repeated group
    needs at least once; of several candidates, the one whose shortest word is longest."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        return _required(sre_parser.parse(pattern.pattern))
    except Exception:  # an internal parser's surprise means no hint, never a wrong one
        return None


def _required(items: Any) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    run = ""

    def consider(words: frozenset[str] | None) -> None:
        nonlocal best
        if words and all(words) and (best is None or min(map(len, words)) > min(map(len, best))):
            best = words

    for op, av in items:
        if op is sre_constants.LITERAL and not chr(av).isspace():  # words never hold a space (apply_strips)
            run += chr(av)
            continue
        consider(frozenset((run,)) if run else None)
        run = ""
        if op is sre_constants.SUBPATTERN and not av[1] & re.IGNORECASE:
            consider(_required(av[-1]))
        elif op is sre_constants.BRANCH:
            branches = [_required(b) for b in av[1]]
            if all(branches):
                consider(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
            consider(_required(av[2]))
    consider(frozenset((run,)) if run else None)
    return best


def _block_span(rule: BlockRule, lines: list[str], i: int) -> int:
    """Index one past the last line of the block starting at line i."""
    if rule.end is not None:
        for j in range(i, min(len(lines), i + rule.max_lines)):
            if rule.end.search(lines[j]):
                return j + 1
        return i + 1  # no end marker in reach: only the start line is furniture
    if rule.tail_fraction and i >= len(lines) * (1 - rule.tail_fraction):
        return len(lines)
    j = i + 1
    while (j < len(lines) and j - i < rule.max_lines and len(lines[j]) <= rule.item_max_chars
           and (rule.item_pattern is None or rule.item_pattern.search(lines[j]))):
        j += 1
    return j


def apply_strips(line: str, strips: Hinted[LineRule]) -> tuple[str, list[tuple[str, str]]]:
    """The line with every strip rule's match cut out, and (rule id, cut text) for each cut.

    The rules the line's hint rules out stay out after a cut: a cut leaves the text on either side
    of one space, so it cannot make a word no rule's words contain (those have no spaces)."""
    cuts = []
    for strip in strips.for_line(line):
        match = strip.pattern.search(line)
        if match is None:
            continue
        start, end = match.span()
        if line[start:end].strip():
            cuts.append((strip.id, line[start:end]))
            line = SPACE_BEFORE_STOP.sub("", line[:start] + " " + line[end:]).strip()
    return line, cuts


def apply_sentences(line: str, rules: Hinted[LineRule]) -> tuple[str, list[tuple[str, str]]]:
    """The line without the sentences a sentence rule matches, and (rule id, sentence) for each."""
    candidates = rules.for_line(line)
    if not candidates:
        return line, []
    kept, cuts = [], []
    for sentence in SENTENCES.findall(line):
        body = sentence.strip()
        rule = next((r.id for r in candidates if len(body) <= r.max_chars and r.pattern.search(body)), None)
        if rule is None:
            kept.append(sentence)
        else:
            cuts.append((rule, sentence))
    return ("".join(kept).strip(), cuts) if cuts else (line, [])


def cut_noise(line: str) -> tuple[str, list[tuple[str, str]]]:
    """The line without runs of `RARE_RUN` or more Han characters outside GB 2312: after the
    normaliser's conversion to Simplified, such a run is noise stuffed into a word."""
    if is_common(line):
        return line, []  # the usual line: nothing outside GB 2312 at all
    cuts = []
    for match in HAN_RUN.finditer(line):
        if is_common(match.group(0)):
            continue  # the usual run: all of it common
        for common, chars in groupby(match.group(0), key=is_common):
            run = "".join(chars)
            if not common and len(run) >= RARE_RUN:
                cuts.append((NOISE_RULE, run))
    for _, run in cuts:
        line = line.replace(run, "", 1)
    return line, cuts


def cut_rules(pack: RulePack) -> frozenset[str]:
    """The ids of the rules that take part of a line, not the whole line (`explain` marks them CUT)."""
    return frozenset([*(r.id for r in pack.strips), *(r.id for r in pack.sentences), NOISE_RULE, COUNTER_RULE])


def _line_rule(line: str, pack: RulePack) -> str | None:
    """The first line rule that removes the line, then the first dense rule with enough matches."""
    return next((r.id for r in pack.lines.for_line(line) if len(line) <= r.max_chars and r.pattern.search(line)),
                None) or next((r.id for r in pack.dense.for_line(line) if len(line) <= r.max_chars
                               and _hits(r.pattern, line, r.min_hits)), None)


def _hits(pattern: re.Pattern[str], line: str, least: int) -> bool:
    return len(list(islice(pattern.finditer(line), least))) >= least  # stops at `least` matches


def clean_lines(
    lines: tuple[str, ...], title: str | None, pack: RulePack, *, find_title: bool = False,
    model: Model | None = None,
) -> tuple[tuple[str, ...], tuple[Removal, ...], str | None]:
    """Kept lines, the removals in page order, and the title. Pure: the same input gives the same answer.

    Strip, sentence and noise cuts run first, so a line rule or block start sees the line without a
    glued-on separator or file suffix. Then the chrome classifier (`model`) judges the short lines no
    rule took, with the rules' removals as its context. With `find_title` (a text dump, which has no <title>), the
    headline is found in the page's head (`find_head`) and the site chrome above it goes; the title's
    repeats are removed after its first appearance.
    """
    removed: list[Removal] = []
    verdicts = [pack.verdict(line) for line in lines]
    stripped = [v.line for v in verdicts]
    for i, v in enumerate(verdicts):
        removed.extend(Removal(STAGE, rule, text, i) for rule, text in v.cuts)
    stop = len(stripped)
    for listing in pack.listings:
        heads = [i for i, line in enumerate(stripped) if listing.entry.search(line)]
        if len(heads) >= listing.min_entries:
            stop = min(stop, heads[1])
            removed.extend(Removal(STAGE, listing.id, stripped[k], k) for k in range(heads[1], len(stripped)))
    kept: list[tuple[int, str]] = []
    i = 0
    while i < stop:
        line = stripped[i]
        block = next((b for b in pack.blocks.for_line(line) if len(line) <= b.start_max_chars and b.start.search(line)
                      and not (b.only_in_tail and i < len(stripped) * (1 - b.tail_fraction))), None)
        if block is not None:
            end = _block_span(block, stripped, i)
            removed.extend(Removal(STAGE, block.id, stripped[k], k) for k in range(i, end))
            i = end
            continue
        rule = verdicts[i].rule
        if rule is not None:
            removed.append(Removal(STAGE, rule, line, i))
        elif line:
            kept.append((i, line))
        i += 1
    if model is not None:
        order = [(i, line) for i, line in enumerate(stripped[:stop]) if line]
        kept_at = {i for i, _ in kept}
        found = chrome_lines([line for _, line in order], model, [i not in kept_at for i, _ in order])
        taken = {order[k][0] for k in found}
        removed.extend(Removal(STAGE, CHROME_RULE, line, i, model.why(line)) for i, line in kept if i in taken)
        kept = [(i, line) for i, line in kept if i not in taken]
    if find_title and title is None:
        title, chrome, counter = find_head([line for _, line in kept])
        removed.extend(Removal(STAGE, rule, kept[k][1], kept[k][0]) for k, rule in chrome.items())
        if counter is not None:
            k, line, digits = counter
            removed.append(Removal(STAGE, COUNTER_RULE, digits, kept[k][0]))
            kept[k] = (kept[k][0], line)
        kept = [entry for k, entry in enumerate(kept) if k not in chrome]
    kept = _drop_repeated_summaries(kept, removed)
    title_key = fold(title) if title else next((fold(line) for _, line in kept[:1] if _title_like(line)), "")
    out: list[str] = []
    title_seen = False
    for i, line in kept:
        key = fold(line)
        if key == title_key and title_seen:
            removed.append(Removal(STAGE, "title.repeated", line, i))
            continue
        title_seen = title_seen or key == title_key
        out.append(line)
    return tuple(out), tuple(sorted(removed, key=lambda r: r.line)), title


def _drop_repeated_summaries(kept: list[tuple[int, str]], removed: list[Removal]) -> list[tuple[int, str]]:
    """Without the summary lines ("摘要：…", "核心提示：…") whose sentences come again below them: a
    summary that repeats the body is the body twice (`farm.summary`). One that says something of
    its own stays."""
    out = []
    for k, (i, line) in enumerate(kept):
        label = SUMMARY_LABEL.match(line)
        if label:
            body = fold("".join(text for _, text in kept[k + 1:]))
            said = [fold(s) for s in SENTENCES.findall(line[label.end():]) if len(fold(s)) >= SUMMARY_MIN_CHARS]
            if said and sum(s in body for s in said) * 2 >= len(said):
                removed.append(Removal(STAGE, SUMMARY_RULE, line, i))
                continue
        out.append((i, line))
    return out


def find_head(lines: list[str]) -> tuple[str | None, dict[int, str], tuple[int, str, str] | None]:
    """A text dump's headline and the chrome above it, by the shape of the page's head. The head is the
    lines before the first prose line (at most `HEAD_LINES`). Its headline is the headline-shaped
    line that comes twice there (the page title above its <h1>), else the one that shares the most
    of its character pairs with the article below it (a site name, a channel or a slogan shares
    little); before the headline, short lines that share less than `HEAD_OVERLAP`, and `HEAD_MARGIN`
    less than the headline, are the site's header (`head.header`); a lone Latin word anywhere in the
    head is a logo or a user name (`head.handle`). A page that opens with "【headline】prose" or
    "《headline》prose" is titled by the bracket; a head line "site - channel - headline" is a trail
    (`head.trail`) whose last part is the headline. A view count glued to the headline ("…解析283",
    never a year) is cut (`head.counter`): the third value is (index, line without it, the digits)."""
    end = next((i for i, line in enumerate(lines[:HEAD_LINES]) if _prose(line) or SECTION.match(line)),
               min(len(lines), HEAD_LINES))
    chrome: dict[int, str] = {}
    for i in range(end):
        if HANDLE.fullmatch(lines[i]):
            chrome[i] = "head.handle"
        elif TRAIL.fullmatch(lines[i]):
            chrome[i] = "head.trail"
    trail = next((TRAIL_PARTS.split(lines[i])[-1].strip() for i, rule in chrome.items() if rule == "head.trail"), None)
    body = _pairs("".join(lines[end:end + HEAD_BODY_LINES]))
    candidates = [i for i in range(end) if i not in chrome and _headline_like(lines[i])]
    if not candidates:
        lead = BRACKET_LEAD.match(lines[end]) if end < len(lines) else None
        return (lead.group(1).strip() if lead else trail), chrome, None
    overlap = {i: _share(lines[i], body) for i in range(end)}
    seen = Counter(fold(line) for line in lines[:end])
    best = max(candidates, key=lambda i: (seen[fold(lines[i])] > 1, overlap[i], -i))
    for i in range(best):
        if i not in chrome and len(lines[i]) <= HEADER_MAX_CHARS and not QUESTION_OR_TITLE.search(lines[i]) \
                and overlap[i] < min(HEAD_OVERLAP, overlap[best] - HEAD_MARGIN):
            chrome[i] = "head.header"
    glued = COUNTER_TAIL.search(lines[best])
    if glued is None:
        return lines[best], chrome, None
    headline = lines[best][:glued.start()]
    return headline, chrome, (best, headline, glued.group(0))


def _prose(line: str) -> bool:
    return line.endswith(("。", "！", "；")) or (len(line) >= PROSE_CHARS and bool(CLAUSE.search(line)))


def _headline_like(line: str) -> bool:
    return (HEADLINE_MIN_CHARS <= len(line) <= TITLE_MAX_CHARS and not line.endswith(("：", ":"))
            and "。" not in line and not SECTION.match(line))


def _pairs(text: str) -> set[str]:
    text = "".join(ch for ch in fold(text) if ch.isalnum())
    return {text[k:k + 2] for k in range(len(text) - 1)}


def _share(line: str, body: set[str]) -> float:
    """The share of the line's character pairs that the body also has."""
    pairs = _pairs(line)
    return len(pairs & body) / len(pairs) if pairs else 0.0


def _title_like(line: str) -> bool:
    return len(line) <= TITLE_MAX_CHARS


def clean_title(title: str | None, pack: RulePack) -> str | None:
    """The headline inside a page title: strip rules applied, then the longest of the parts that
    site names and channels are joined with ("标题_频道_新浪网", "标题 - 搜狐财经")."""
    if not title:
        return title
    title = max(TITLE_SEPARATORS.split(title), key=lambda part: sum(2 if is_cjk(ch) else 1 for ch in part))
    return apply_strips(title, pack.strips)[0] or None


def make(cfg: BoilerplateConfig, config: Config) -> Stage:
    pack = load_rules(config.data_file(cfg.rules))
    model = load_model(config.data_file(cfg.chrome_model))

    def boilerplate(doc: Document) -> Document | Drop:
        title = clean_title(doc.title, pack)
        text = doc.format == "text"  # a text dump: its structure is gone, its head and lines are judged by shape
        lines, removed, title = clean_lines(doc.lines, title, pack, find_title=text, model=model if text else None)
        if not lines:
            return Drop("all boilerplate", f"{len(removed)} lines removed, none kept")
        return replace(doc, lines=lines, title=title, removed=doc.removed + removed)

    return boilerplate
