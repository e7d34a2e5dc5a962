"""Roles stage: tag each claim with role ids and a claim type; keep only claims about a role.

The lexicon is data (`data/roles.toml`); types come from `claim_types`. Matching is longest-first
(产品运营 over 运营); look-alike words (运营商) are masked first. A claim is about the roles that are
the subjects of its clauses ("内容运营和用户运营的区别在于…": both), not the roles it names in passing
(运营策略, 与销售团队合作, 在营销推广方面). A claim without one takes its paragraph's subject (a pronoun
continues the sentence before), else its heading's roles, else the page's (its title's subjects, or
the subject its claims name most); a broader role (运营者) under a narrower heading (新媒体运营), or on
a page about one role, is the narrower. A page that is not about roles at all (a news story that
mentions 销售) gives no claims; they are recorded as removed (roles.off_topic).
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from ..config import Config, ConfigError, RolesConfig
from ..model import Claim, Document, Drop, Removal, Stage
from . import claim_types

OFF_TOPIC = "roles.off_topic"  # the claims of a page that is not about roles, removed


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: str
    aliases: tuple[str, ...]
    broader: str | None = None


Mention = tuple[int, int, str, str]  # start, end, role id, lower-cased term
CLAUSE_END = re.compile(r"[，,；;：:。！？!?]")
UNMARK = str.maketrans("", "", " \t\u3000“”‘’「」『』【】《》\"'*#-•·●▪►▶")  # quotes and bullets are not words
TOPIC_LEAD = 6  # at most this many characters before a clause's topic
LABEL = re.compile(r"^[^，。；：:]{2,14}[：:]")  # a list item's label
GLOSS = re.compile(r"[（(][^（()）]*[）)]")  # a gloss in brackets: 运营（对内）
SIDE_MIN_CLAIMS = 3  # an untitled page compares two roles its claims name at least this often
AGENT_CHARS = 8  # at most this many characters before the ending that makes a noun a job (编辑, 专员)
NOUN_CHAR = r"[^\W是做把将让对在和与的了着过被给为]"  # a character of a noun phrase, not of a verb phrase
AFTER_SUBJECT = r"[，,的是需要应负主则更还也会可在通过不就都偏侧能]"  # what may follow a subject noun


@dataclass(frozen=True)
class Subjects:
    """Which role terms are subjects of their clause (see `[subject]` in data/roles.toml)."""

    lead: re.Pattern[str]  # the whole text before a subject in its clause
    modifier: re.Pattern[str]  # after a term that only modifies a noun (运营策略)
    joiner: re.Pattern[str]  # between two subjects of one clause
    suffix: re.Pattern[str]  # what may follow a subject (运营人员, 产品经理这个岗位)
    governed: re.Pattern[str]  # right before a role that is the other side of a relation (分管市场部)
    agent: re.Pattern[str]  # a job the lexicon does not know, where a subject stands (新媒体编辑的工作…)

    @classmethod
    def of(cls, data: dict[str, list[str]]) -> Subjects:
        def alt(key: str) -> str:
            return "|".join(map(re.escape, sorted(data.get(key, ()), key=len, reverse=True))) or r"(?!)"
        return cls(re.compile(rf"(?:{alt('lead')})*"), re.compile(rf"(?:{alt('modifies')})"),
                   re.compile(rf"(?:{alt('suffix')})?\s*(?:{alt('joiner')})\s*"), re.compile(rf"(?:{alt('suffix')})?"),
                   re.compile(rf"(?:{alt('governed')})$"),
                   re.compile(rf"{NOUN_CHAR}{{1,{AGENT_CHARS}}}?(?:{alt('agent')})们?(?={AFTER_SUBJECT}|$)"))

    def foreign(self, text: str, at: int, mentions: list[Mention]) -> bool:
        """Whether the sentence opens (at `at`, after its lead words) with a job that is not a role
        ("新媒体文案编辑不光要对内容负责" is about the copywriter); `mentions` are its role terms (none of
        them its subject)."""
        if not (m := self.agent.match(text, at)):
            return False
        return not any(start < m.end() for start, _, _, _ in mentions)  # 广告运营经理: a role's people

    def pick(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """The mentions that are subjects: at the start of a clause, or joined to the subject before them."""
        out: list[Mention] = []
        for i, mention in enumerate(mentions):
            start, end, role = mention[0], mention[1], mention[2]
            glossed = i + 1 < len(mentions) and mentions[i + 1][2] == role and text[end:mentions[i + 1][0]] in "（("
            joined = bool(out) and self.joiner.fullmatch(text, out[-1][1], start) is not None
            if joined or glossed or self.governed.search(text, 0, start):
                out.append(mention)
                continue
            clause = max((m.end() for m in CLAUSE_END.finditer(text, 0, start)), default=0)
            lead = text[clause:start].translate(UNMARK)
            if (self.lead.fullmatch(lead) and not self.modifier.match(text, end)) or self.topic(text, lead, end):
                out.append(mention)
        return out

    def topic(self, text: str, lead: str, end: int) -> bool:
        """Whether the term, with a short modifier before it, is its clause's topic ("互联网的产品运营，是…")."""
        rest = CLAUSE_END.search(text, end)
        tail = text[end: rest.start() if rest else len(text)].translate(UNMARK)
        return len(lead) <= TOPIC_LEAD and self.suffix.fullmatch(tail) is not None and rest is not None


@dataclass(frozen=True)
class Lexicon:
    version: str
    roles: tuple[Role, ...]
    pattern: re.Pattern[str]  # every term, lower-cased (matched on lower-cased text)
    by_term: dict[str, str]  # lower-cased term -> role id
    mask: re.Pattern[str] | None
    weak: frozenset[str] = frozenset()  # lower-cased terms that are also everyday words
    subject: Subjects | None = None  # None: every mention counts as a subject

    def subjects(self, text: str, strong: bool = False) -> tuple[str, ...]:
        """Role ids the text is about: the subjects of its clauses, not roles named in passing."""
        return self.ids(self.analyse(text)[1], strong)

    def analyse(self, text: str) -> tuple[list[Mention], list[Mention]]:
        """Every role term in the text, and those that are subjects of their clause."""
        mentions = self.mentions(text)
        return mentions, (self.subject.pick(text, mentions) if self.subject is not None else mentions)

    def analyse_page(self, text: str, claims: Sequence[Claim]) -> list[tuple[list[Mention], list[Mention]]]:
        """`analyse` of every claim. When the claims' offsets point into the page's text (in order, as
        the segmenter makes them), its terms are found in one pass over the text, not one per claim."""
        starts = [c.char_start for c in claims]
        if (not claims or starts != sorted(starts) or len(text.lower()) != len(text)
                or any(text[c.char_start:c.char_end] != c.text for c in claims)):
            return [self.analyse(c.text) for c in claims]
        own: list[list[Mention]] = [[] for _ in claims]
        for start, end, role, term in self.mentions(text):
            i = bisect.bisect_right(starts, start) - 1
            if i >= 0 and end <= claims[i].char_end:  # a term inside the claim, not across two
                at = claims[i].char_start
                own[i].append((start - at, end - at, role, term))
        pick = self.subject.pick if self.subject is not None else None
        return [(m, pick(c.text, m) if pick and m else m) for c, m in zip(claims, own, strict=True)]

    def ids(self, mentions: list[Mention], strong: bool = False) -> tuple[str, ...]:
        """The mentions' role ids in order of first mention, without repeats (strong: no weak terms)."""
        if not mentions:
            return ()  # most sentences: nothing to collect
        return tuple(dict.fromkeys(role for _, _, role, term in mentions if not (strong and term in self.weak)))

    def mentions(self, text: str) -> list[Mention]:
        """Each role term in text as (start, end, role id, lower-cased term), left to right."""
        if self.mask is not None:
            text = self.mask.sub(lambda m: "\0" * len(m.group(0)), text)
        # Lower-casing the text instead of matching with re.I lets the regex engine skip to the
        # terms' first characters: ten times faster on this alternation.
        return [(m.start(), m.end(), self.by_term[m.group(0)], m.group(0)) for m in self.pattern.finditer(text.lower())]

    def find(self, text: str, strong: bool = False) -> tuple[str, ...]:
        """Role ids mentioned in text, in order of first mention, without repeats (strong: no weak terms)."""
        return self.ids(self.mentions(text), strong)

    def about_other(self, text: str, mentions: list[Mention]) -> bool:
        """Whether a sentence that names no role as its subject opens with something else: a job the
        lexicon does not know (新媒体编辑的工作…) or a word that holds a role's word but is no role (私域运营是…)."""
        if self.subject is None:
            return False
        at = self.subject.lead.match(text).end()
        masked = self.mask is not None and self.mask.match(text, at) is not None
        return masked or self.subject.foreign(text, at, mentions)

    @cached_property
    def broader(self) -> dict[str, str | None]:
        return {r.id: r.broader for r in self.roles}

    def related(self, own: tuple[str, ...], context: tuple[str, ...]) -> bool:
        """Whether the claim names a context role or a broader one of it (运营 under 产品运营)."""
        return any(r in context or r in {self.broader[c] for c in context} for r in own)

    def specialise(self, own: tuple[str, ...], context: tuple[str, ...]) -> tuple[str, ...]:
        """A broader role the claim names becomes the one narrower role its context is about."""
        broader = self.broader
        out: dict[str, None] = {}
        for role in own:
            narrower = [c for c in context if broader[c] == role]
            # "运营…产品运营…" in the claim, or "什么是运营？什么是新媒体运营？" above it: the broader is meant
            named = role in context or any(broader[o] == role for o in own)
            out.setdefault(narrower[0] if len(narrower) == 1 and not named else role, None)
        return tuple(out)


def _term_pattern(term: str) -> str:
    """A Latin term stands alone ("sem", not "semester"); the check before it follows its first letter,
    so every branch starts with a literal, which the regex engine scans for quickly."""
    if term.isascii():
        return rf"{re.escape(term[:1])}(?<![A-Za-z].){re.escape(term[1:])}(?![A-Za-z])"
    return re.escape(term)


def load_lexicon(path: Path) -> Lexicon:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot load role lexicon: {exc}") from None
    roles = []
    by_term: dict[str, str] = {}
    for entry in data.get("role", []):
        role = Role(entry["id"], entry["name"], tuple(entry.get("aliases", ())), entry.get("broader"))
        if any(r.id == role.id for r in roles):
            raise ConfigError(f"{path.name}: role id {role.id} appears twice")
        roles.append(role)
        for term in (role.name, *role.aliases):
            if by_term.setdefault(term.lower(), role.id) != role.id:
                raise ConfigError(f"{path.name}: term {term} belongs to two roles")
    ids = {r.id for r in roles}
    for role in roles:
        if role.broader is not None and role.broader not in ids:
            raise ConfigError(f"{path.name}: role {role.id} is narrower than unknown role {role.broader}")
    weak = frozenset(t.lower() for t in data.get("weak", []))
    if unknown := weak - by_term.keys():
        raise ConfigError(f"{path.name}: weak terms that are no role's term: {', '.join(sorted(unknown))}")
    terms = sorted(by_term, key=len, reverse=True)
    pattern = re.compile("|".join(_term_pattern(t) for t in terms))
    not_roles = sorted(data.get("not_roles", []), key=len, reverse=True)
    mask = re.compile("|".join(map(re.escape, not_roles))) if not_roles else None
    subject = Subjects.of(data["subject"]) if "subject" in data else None
    return Lexicon(str(data.get("version", "")), tuple(roles), pattern, by_term, mask, weak, subject)


def resolve(own: tuple[str, ...], strong: bool, context: tuple[str, ...], lexicon: Lexicon) -> tuple[str, ...]:
    """The roles of a claim that names some, given the roles of the heading it stands under.

    A broader role (运营者) under a narrower one: the narrower. Only everyday words unrelated to the
    heading (投放 in a list under "SEM岗位职责"): the heading's roles come first.
    """
    roles = lexicon.specialise(own, context)
    if strong or lexicon.related(own, context):
        return roles
    return tuple(dict.fromkeys(context + roles))


def task_label(text: str, subjects: list[Mention]) -> bool:
    """Whether the text starts with a label that names a task by a role's word ("宣传推广：…", "销售管理：…"):
    its subjects all lie in the label, and the label is more than that word ("投放：…", "运营（对内）：…"
    name a role)."""
    if not (label := LABEL.match(text)) or any(end > label.end() for _, end, _, _ in subjects):
        return False
    name = GLOSS.sub("", text[:label.end() - 1]).strip()
    return not any(text[start:end] == name for start, end, _, _ in subjects)


def sides(title: tuple[str, ...], named: list[tuple[str, int]], titled: bool, lexicon: Lexicon) -> tuple[str, ...]:
    """The two roles a page compares: the two its title names, or on a page without a title the two
    its claims name most when they name both about as often (`named`: role, claims). A role and a
    kind of it (运营, 网站运营) are no two sides."""
    pair = title if len(title) == 2 else ()
    if not titled and len(named) == 2 and named[1][1] * 2 >= named[0][1] >= SIDE_MIN_CLAIMS:
        pair = (named[0][0], named[1][0])
    if pair and (lexicon.related(pair[:1], pair[1:]) or lexicon.related(pair[1:], pair[:1])):
        return ()
    return pair


def on_topic(doc: Document, strong_subjects: int, lexicon: Lexicon, cfg: RolesConfig) -> bool:
    """Whether the page is about roles (运营 in general counts), from its title (a page without one:
    its opening line, which states the topic), its headings and the claims whose subject is a role
    named by a term that is not weak (`strong_subjects` of them)."""
    if lexicon.find(doc.title or next(iter(doc.lines), "")):
        return True
    headings = {h for claim in doc.claims for h in claim.section}
    named = [h for h in headings if lexicon.find(h)]
    if len(named) >= cfg.topic_min_headings or any(lexicon.find(h, strong=True) for h in named):
        return True
    return strong_subjects >= cfg.topic_min_claims


def make(cfg: RolesConfig, config: Config) -> Stage:
    lexicon = load_lexicon(config.data_file(cfg.lexicon))
    rules = claim_types.load_types(config.data_file(cfg.claim_types))

    def tag(doc: Document) -> tuple[tuple[tuple[Claim, int], ...], int]:
        """Each claim that is about a role, with its roles (the subjects it names, else its paragraph's
        subject: the roles of the sentence before it in the same paragraph, else its heading's, else
        the page's: its title's subjects, or the subject its claims name most) and how many roles it
        names as its subjects (two sides of a contrast); and how many claims have a strong subject.
        A sentence with none of these is about something else: no claim."""
        found = lexicon.analyse_page(doc.text, doc.claims)
        strong = [lexicon.ids(subjects, strong=True) for _, subjects in found]
        title_terms, title_subjects = lexicon.analyse(doc.title or "")
        title = lexicon.ids(title_subjects)
        named = Counter(r for roles in strong for r in roles).most_common(2)
        # a title names the page's topic even as a modifier (《社群运营思维导图》), unless by an everyday word
        page = title or lexicon.ids(title_terms, strong=True) or tuple(role for role, _ in named[:1])
        narrowing = title if len(title) == 1 else ()  # on a page about one role, 运营人员 are its people
        # ... also when that role is no kind of theirs but its name holds their term (信息流广告运营)
        held = tuple(t for *_, long in title_subjects for t in lexicon.by_term if t in long) if narrowing else ()
        compared = sides(title, named, bool(doc.title), lexicon)
        headings: dict[tuple[str, ...], tuple[str, ...]] = {}  # a page's claims share few sections
        subject: dict[int, tuple[str, ...]] = {}  # a paragraph's roles; () when it is about another job
        out: list[Claim] = []
        for claim, (mentions, subjects), own_strong in zip(doc.claims, found, strong, strict=True):
            heading = headings.get(claim.section)
            if heading is None:
                heading = headings[claim.section] = next(
                    (found for h in reversed(claim.section) if (found := lexicon.find(h))), ())
            own = lexicon.ids(subjects)
            if own:
                if held and not lexicon.related(own, narrowing) and all(term.startswith(held) for *_, term in subjects):
                    own = narrowing
                roles = resolve(own, bool(own_strong), heading or narrowing, lexicon)
                if not own_strong and (context := heading or narrowing) and task_label(claim.text, subjects):
                    roles = context  # "宣传推广：负责活动的宣传" under 活动运营: a task's name, not a role
                basis = "subject"
                if claim.paragraph >= 0:
                    subject[claim.paragraph] = roles
            elif lexicon.about_other(claim.text, mentions) or subject.get(claim.paragraph) == ():
                roles, basis = (), ""  # about another job: no claim
                if claim.paragraph >= 0:
                    subject[claim.paragraph] = ()
            else:
                if roles := subject.get(claim.paragraph, ()):
                    basis = "paragraph"
                elif roles := heading:
                    basis = "heading"
                elif roles := page:
                    basis = "page"
                else:
                    roles, basis = lexicon.ids(mentions), "mention"
                if claim.paragraph >= 0 and roles:
                    subject.setdefault(claim.paragraph, roles)
            if roles and compared and set(compared) <= set(lexicon.ids(mentions)):
                roles = tuple(dict.fromkeys(roles + compared))  # "网络推广是网络营销成功的关键": both sides
            if roles:  # else: article text about something else, kept in the page's text, no claim
                out.append((claim._replace(roles=roles, basis=basis), len(own)))
        return tuple(out), sum(1 for roles in strong if roles)

    def roles(doc: Document) -> Document | Drop:
        tagged, strong_subjects = tag(doc)
        removed = tuple(r for r in doc.removed if r.stage != "roles")  # idempotent when run again
        if tagged and not on_topic(doc, strong_subjects, lexicon, cfg):
            removed += tuple(Removal("roles", OFF_TOPIC, c.text) for c, _ in tagged)
            tagged = ()
        title = doc.title or ""

        typed = tuple(c._replace(claim_type=claim_types.classify(c.text, c.section, title, rules, lexicon.find, sides))
                      for c, sides in tagged)
        return replace(doc, claims=typed, removed=removed)

    return roles
