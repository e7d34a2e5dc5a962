"""Claim types (roles.md): which kind of statement a claim is, from its form.

The type rules (`data/claim_types.toml`) name the forms, tried in order: 区别 compares, 是指 defines,
分为 classifies, a label then a duty verb ("内容运营：策划和编辑…") states a responsibility… When the
sentence has no form of its own, its list lead-in decides ("核心目标：" makes its items goals), then
the page title (a page titled "…的工作职责" lists duties). The rows of a table whose columns are roles
("对比维度、BD、销售：") are comparisons, whatever their own form. Headings do not: not everything under
"产品运营不同阶段的侧重点" is a comparison. Text in book-title marks 《》 is not the sentence's form
(《营销管理》 is no duty of management).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..config import ConfigError

TYPES = ("definition", "responsibility", "comparison", "classification", "workflow", "goal", "requirement", "other")
BOOK_TITLE = re.compile(r"《[^《》]*》")


@dataclass(frozen=True, slots=True)
class TypeRule:
    """One claim-type rule; with `subject_within`, a role must be named that close before the verb;
    with `min_sides`, the claim must have that many roles as its subjects (both sides of a contrast)."""

    id: str
    type: str
    pattern: re.Pattern[str]
    subject_within: int | None = None
    min_sides: int = 0

    def matches(self, text: str, names_role: Callable[[str], object], sides: int = 0) -> bool:
        if sides < self.min_sides:
            return False
        for m in self.pattern.finditer(text):
            if self.subject_within is None:
                return True
            at = m.start("verb") if "verb" in self.pattern.groupindex else m.start()
            if names_role(text[max(0, at - self.subject_within): at]):
                return True
        return False


def load_types(path: Path) -> tuple[TypeRule, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = tuple(TypeRule(t["id"], t.get("type", t["id"]), re.compile(t["pattern"]), t.get("subject_within"),
                               t.get("min_sides", 0)) for t in data.get("type", []))
    except (OSError, tomllib.TOMLDecodeError, KeyError, re.error) as exc:
        raise ConfigError(f"{path}: cannot load claim types: {exc}") from None
    if unknown := {r.type for r in rules} - set(TYPES):
        raise ConfigError(f"{path.name}: unknown claim types: {', '.join(sorted(unknown))}")
    return rules


def _unbook(text: str) -> str:
    return BOOK_TITLE.sub(lambda m: "《" + "\0" * (len(m.group(0)) - 2) + "》", text)


def form(text: str, rules: Sequence[TypeRule], names_role: Callable[[str], object], sides: int = 0) -> str | None:
    """The type of the first rule that matches the text, None when none does."""
    masked = _unbook(text)
    return next((rule.type for rule in rules if rule.matches(masked, names_role, sides)), None)


@lru_cache(maxsize=4096)
def _context_form(text: str, rules: tuple[TypeRule, ...], names_role: Callable[[str], object]) -> str | None:
    """`form` of a lead-in or a title: every item under it and every claim on the page asks again."""
    return form(text, rules, names_role) if text else None


def classify(text: str, context: tuple[str, ...], title: str, rules: tuple[TypeRule, ...],
             names_role: Callable[[str], Sequence[str]], sides: int = 0) -> str:
    """The type of the first rule that matches the sentence, else its list lead-in ("目标："), else the
    page title ("…的工作职责"), else other; `sides` is how many roles are the sentence's subjects."""
    lead_in = context[-1] if context and context[-1].endswith(("：", ":")) else ""
    if _compares(lead_in, names_role):
        return "comparison"
    return (form(text, rules, names_role, sides) or _context_form(lead_in, rules, names_role)
            or _context_form(title, rules, names_role) or "other")


@lru_cache(maxsize=1024)
def _compares(lead_in: str, names_role: Callable[[str], Sequence[str]]) -> bool:
    """Whether the lead-in is the head of a table whose columns are roles ("对比维度、BD、销售："): each
    row under it ("目标：拓展合作，完成销售任务") sets the roles side by side, whatever its own form."""
    cells = lead_in[:-1].split("、") if lead_in else []
    if len(cells) < 3 or names_role(cells[0]):
        return False
    return len({found[0] for cell in cells[1:] if (found := names_role(cell))}) >= 2
