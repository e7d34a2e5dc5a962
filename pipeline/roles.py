"""Roles stage: tag each claim with role ids and a claim type; keep only claims about a role.

The lexicon and the type rules are data (`data/roles.toml`, `data/claim_types.toml`). Matching is
longest-first (产品运营 over 运营); look-alike words (运营商) are masked first. A claim with no
role word of its own takes the roles of the nearest heading or list lead-in above it that has one.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from .config import Config, ConfigError, RolesConfig
from .model import Claim, Document, Drop, Stage


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    version: str
    roles: tuple[Role, ...]
    pattern: re.Pattern[str]
    by_term: dict[str, str]  # lower-cased term -> role id
    mask: re.Pattern[str] | None

    def find(self, text: str) -> tuple[str, ...]:
        """Role ids mentioned in text, in order of first mention, without repeats."""
        if self.mask is not None:
            text = self.mask.sub(lambda m: "\0" * len(m.group(0)), text)
        seen: dict[str, None] = {}
        for match in self.pattern.finditer(text):
            seen.setdefault(self.by_term[match.group(0).lower()], None)
        return tuple(seen)


def _term_pattern(term: str) -> str:
    escaped = re.escape(term)
    if term.isascii():
        return rf"(?<![A-Za-z]){escaped}(?![A-Za-z])"
    return escaped


def load_lexicon(path: Path) -> Lexicon:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot load role lexicon: {exc}") from None
    roles = []
    by_term: dict[str, str] = {}
    for entry in data.get("role", []):
        role = Role(entry["id"], entry["name"], tuple(entry.get("aliases", ())))
        if any(r.id == role.id for r in roles):
            raise ConfigError(f"{path.name}: role id {role.id} appears twice")
        roles.append(role)
        for term in (role.name, *role.aliases):
            if by_term.setdefault(term.lower(), role.id) != role.id:
                raise ConfigError(f"{path.name}: term {term} belongs to two roles")
    terms = sorted(by_term, key=len, reverse=True)
    pattern = re.compile("|".join(_term_pattern(t) for t in terms), re.I)
    not_roles = sorted(data.get("not_roles", []), key=len, reverse=True)
    mask = re.compile("|".join(map(re.escape, not_roles))) if not_roles else None
    return Lexicon(str(data.get("version", "")), tuple(roles), pattern, by_term, mask)


def load_types(path: Path) -> tuple[tuple[str, re.Pattern[str]], ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return tuple((t.get("type", t["id"]), re.compile(t["pattern"])) for t in data.get("type", []))
    except (OSError, tomllib.TOMLDecodeError, KeyError, re.error) as exc:
        raise ConfigError(f"{path}: cannot load claim types: {exc}") from None


def classify(text: str, context: tuple[str, ...], types: tuple[tuple[str, re.Pattern[str]], ...]) -> str:
    """Claim type from the sentence's form; the innermost heading decides when the sentence can't."""
    for candidate in (text, *(context[-1:])):
        for type_id, pattern in types:
            if pattern.search(candidate):
                return type_id
    return "other"


def tag(claim: Claim, lexicon: Lexicon, types: tuple[tuple[str, re.Pattern[str]], ...]) -> Claim:
    roles = lexicon.find(claim.text)
    if not roles:
        for heading in reversed(claim.section):
            roles = lexicon.find(heading)
            if roles:
                break
    return replace(claim, roles=roles, claim_type=classify(claim.text, claim.section, types))


def make(cfg: RolesConfig, config: Config) -> Stage:
    lexicon = load_lexicon(config.data_file(cfg.lexicon))
    types = load_types(config.data_file(cfg.claim_types))

    def roles(doc: Document) -> Document | Drop:
        tagged = (tag(c, lexicon, types) for c in doc.claims)
        return replace(doc, claims=tuple(c for c in tagged if c.roles))

    return roles
