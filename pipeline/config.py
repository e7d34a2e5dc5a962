"""Configuration: one TOML section per stage, loaded into frozen dataclasses.

Defaults live here, in code; `config.toml` only overrides. An unknown section or key, or a value of
the wrong type, is a `ConfigError` whose message is one line a user can act on.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"


class ConfigError(Exception):
    """A problem with the configuration that the user can fix (exit code 2)."""


@dataclass(frozen=True)
class ReadConfig:
    max_file_mb: float = 64.0  # larger inputs fail with a reason instead of exhausting memory
    max_decompressed_mb: float = 256.0  # gzip bombs stop here
    max_page_mb: float = 16.0  # one page (file or record) larger than this is no article: it fails
    max_page_seconds: float = 60.0  # a page whose stage runs longer fails alone (0: no limit)
    html_suffixes: tuple[str, ...] = (".html", ".htm", ".xhtml", ".shtml")  # read as HTML (also inside .gz)
    text_suffixes: tuple[str, ...] = (".txt", ".md")  # read as text dumps: one paragraph a line
    url_sidecar_suffix: str = ".url"  # page.html + page.html.url holding the page's URL


@dataclass(frozen=True)
class DecodeConfig:
    detect_candidates: tuple[str, ...] = ("gb18030", "big5hkscs")  # tried when no declaration holds
    max_error_ratio: float = 0.01  # share of undecodable characters a declared charset may have


@dataclass(frozen=True)
class ExtractConfig:
    engine: str = "density"  # main-content extractor: ours, or trafilatura for comparison runs
    max_link_density: float = 0.5  # a block with more of its text in links is a link list
    link_block_penalty: float = 0.5  # weight per character of a link-list block, against it
    punct_weight: float = 3.0  # weight per Chinese/ASCII punctuation mark: sentences, not labels
    block_cost: float = 8.0  # weight every block pays: short bare labels come out negative
    min_text_chars: int = 20  # below this, the page has no main text and all visible text is kept
    include_tables: bool = True  # trafilatura engine only


@dataclass(frozen=True)
class BoilerplateConfig:
    rules: str = "boilerplate.toml"  # relative to the config file, or a packaged data file
    chrome_model: str = "chrome_model.toml"  # the chrome line classifier's weights (scripts/fit_chrome.py)


@dataclass(frozen=True)
class NormaliseConfig:
    opencc: str = "t2s"  # script conversion to Simplified (Taiwan and Hong Kong variants), or none
    mojibake: bool = True  # repair UTF-8 text that was mis-decoded as Latin-1/cp1252 or GBK
    annotations: bool = True  # remove pinyin and script annotations: 產(chǎn), {练:pǐn}, (繁体:個)
    noise: bool = True  # remove symbols inserted inside words: 产㊣品, 运✅营
    width: bool = True  # full-width Latin letters and digits to ASCII
    punctuation: bool = True  # ASCII punctuation and quotes in Chinese context to Chinese ones
    whitespace: bool = True  # collapse runs of spaces, drop zero-width and control characters


@dataclass(frozen=True)
class TemplatesConfig:
    min_pages: int = 4  # a line on this many distinct pages of a site may be its template...
    min_share: float = 0.5  # ...when those pages are at least this share of the site's pages
    max_chars: int = 60  # longer lines are article text, never template
    corpus_min_sites: int = 20  # a line on this many sites is a corpus-wide template (0: off)


@dataclass(frozen=True)
class SegmentConfig:
    max_claim_chars: int = 300  # a longer sentence is split at its clauses
    min_claim_chars: int = 4  # a shorter piece is no claim
    # A short sentence that starts by continuing the one before ("就会对你有很大启发。") says nothing alone.
    fragment_starts: tuple[str, ...] = ("就", "是", "等", "尤其是")
    fragment_max_chars: int = 20  # ...when it is at most this long
    heading_max_chars: int = 30  # a longer line is never a heading
    # A short unpunctuated line with one of these after its subject states something (a mind-map
    # node: "新媒体营销偏向对外的工作"): a claim, and the context of the lines under it.
    statement_verbs: tuple[str, ...] = ("是", "就是", "是指", "偏向", "倾向于", "侧重于", "负责", "属于", "不是",
                                        "向外", "向内", "分为", "包括", "等于", "重在", "在于")
    # Words that contain a verb but do not state anything ("运营还是推广", "运营负责人").
    not_statement: tuple[str, ...] = ("还是", "或是", "但是", "于是", "可是", "要是", "只是", "总是", "凡是",
                                      "负责人", "是否")
    # ...unless it asks something ("运营是做什么的"): then it is a heading.
    question_words: tuple[str, ...] = ("什么", "哪些", "哪个", "哪种", "哪几", "怎么", "怎样", "如何", "为何",
                                       "为什么", "多少", "是否", "吗", "呢")


@dataclass(frozen=True)
class RolesConfig:
    lexicon: str = "roles.toml"  # role ids, names, aliases (relative to the config file, or packaged)
    claim_types: str = "claim_types.toml"  # claim type rules: the forms of each type
    # A page gives claims only when it is about roles: its title names one, or this many of its
    # headings do (one is enough when the term is not a weak one), or this many claims have a role
    # as their subject, named by a term that is not weak. Set both to 0 to keep every page.
    topic_min_headings: int = 2
    topic_min_claims: int = 2  # (see topic_min_headings)


@dataclass(frozen=True)
class ClaimsConfig:
    model: str = "claim_model.toml"  # which candidates are claims: the weights (scripts/fit_claims.py)
    rules: str = "claim_rules.toml"  # sentences that are no claims by their form alone, each rule with an id
    # The page's last sentence is cut off by the end of the text when it has no closing mark and
    # is longer than this (a shorter one is a list item or a heading).
    cut_min_chars: int = 20


@dataclass(frozen=True)
class DedupConfig:
    key: str = "canonical"  # Simplified, NFKC, lower-case, letters/digits/CJK only
    shingle: int = 3  # claims are compared as sets of character n-grams of their key
    threshold: float = 0.6  # Jaccard at or above which two claims are one (checked on the true sets)
    doc_shingle: int = 5  # pages: longer n-grams...
    doc_threshold: float = 0.8  # ...and a higher bar: a republication, not a page on the same topic
    num_perm: int = 128  # MinHash signature length
    bands: int = 32  # LSH bands (num_perm / bands rows each): a pair at 0.6 is a candidate 99% of the time

    def __post_init__(self) -> None:
        if not self.bands or self.num_perm % self.bands:
            raise ConfigError(f"config: [dedup] num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")
        if not (0 < self.threshold <= 1 and 0 < self.doc_threshold <= 1):
            raise ConfigError("config: [dedup] threshold and doc_threshold must be in (0, 1]")
        if self.shingle < 1 or self.doc_shingle < 1:
            raise ConfigError("config: [dedup] shingle and doc_shingle must be at least 1")


@dataclass(frozen=True)
class WriteConfig:
    csv: bool = True  # also write claims.csv
    compression: str = "zstd"  # Parquet compression


@dataclass(frozen=True)
class Config:
    read: ReadConfig = field(default_factory=ReadConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    normalise: NormaliseConfig = field(default_factory=NormaliseConfig)
    templates: TemplatesConfig = field(default_factory=TemplatesConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    claims: ClaimsConfig = field(default_factory=ClaimsConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    write: WriteConfig = field(default_factory=WriteConfig)
    base_dir: Path = DATA_DIR  # where relative data-file paths are looked up first

    def data_file(self, name: str) -> Path:
        """A rule or lexicon file: relative to the config file if it exists there, else packaged."""
        for candidate in (self.base_dir / name, DATA_DIR / name):
            if candidate.is_file():
                return candidate
        raise ConfigError(f"data file not found: {name} (looked in {self.base_dir} and {DATA_DIR})")

    def data_files(self) -> dict[str, Path]:
        """Every rule and lexicon file the settings name, by its setting: their contents are settings too."""
        return {f"{section}.{key}": self.data_file(getattr(getattr(self, section), key)) for section, key in DATA_FILES}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """The settings in force, for the manifest."""
        out: dict[str, dict[str, Any]] = {}
        for f in fields(self):
            section = getattr(self, f.name)
            if f.name != "base_dir":
                out[f.name] = {g.name: _jsonable(getattr(section, g.name)) for g in fields(section)}
        return out


DATA_FILES = (("boilerplate", "rules"), ("boilerplate", "chrome_model"), ("roles", "lexicon"), ("roles", "claim_types"),
              ("claims", "model"), ("claims", "rules"))

# Inclusive bounds of numeric settings (None: unbounded), checked on load: values that would pass
# the type check but break a run (max_claim_chars = 0 loops until memory runs out, num_perm = 10^8
# aborts) are one-line errors instead. Every number must also be finite.
BOUNDS: dict[tuple[str, str], tuple[float, float | None]] = {
    ("read", "max_file_mb"): (0.001, 65536), ("read", "max_decompressed_mb"): (0.001, 65536),
    ("read", "max_page_mb"): (0.001, 4096), ("read", "max_page_seconds"): (0, 86400),
    ("decode", "max_error_ratio"): (0, 1),
    ("extract", "max_link_density"): (0, 1), ("extract", "link_block_penalty"): (0, 100),
    ("extract", "punct_weight"): (0, 100), ("extract", "block_cost"): (0, 1000),
    ("templates", "min_pages"): (2, None), ("templates", "min_share"): (0, 1), ("templates", "max_chars"): (1, 10000),
    ("segment", "max_claim_chars"): (20, 100000), ("segment", "min_claim_chars"): (1, 1000),
    ("segment", "fragment_max_chars"): (0, 1000), ("segment", "heading_max_chars"): (1, 1000),
    ("dedup", "shingle"): (1, 32), ("dedup", "doc_shingle"): (1, 64), ("dedup", "num_perm"): (16, 1024),
    ("dedup", "bands"): (1, 1024), ("dedup", "threshold"): (0.01, 1), ("dedup", "doc_threshold"): (0.01, 1),
}
NONEMPTY = frozenset((("read", "url_sidecar_suffix"), ("boilerplate", "rules"), ("boilerplate", "chrome_model"),
                      ("roles", "lexicon"), ("roles", "claim_types"),
              ("claims", "model"), ("claims", "rules")))

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("extract", "engine"): ("density", "trafilatura"),
    ("normalise", "opencc"): ("t2s", "tw2s", "hk2s", "none"),
    ("dedup", "key"): ("canonical",),
    ("write", "compression"): ("zstd", "snappy", "gzip", "none"),
}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _coerce(section: str, key: str, value: Any, annotation: Any) -> Any:
    where = f"[{section}] {key}"
    origin = typing.get_origin(annotation)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"config: {where} must be a list of non-empty strings")
        return tuple(value)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config: {where} must be true or false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"config: {where} must be a non-negative integer")
        return _bounded(section, key, value)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"config: {where} must be a non-negative number")
        return _bounded(section, key, float(value))
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"config: {where} must be a string")
        if not value and (section, key) in NONEMPTY:
            raise ConfigError(f"config: {where} must not be empty")
        allowed = ENUMS.get((section, key))
        if allowed and value not in allowed:
            raise ConfigError(f"config: {where} must be one of {', '.join(allowed)} (got {value!r})")
        return value
    raise ConfigError(f"config: {where} has an unsupported type")  # pragma: no cover - a code bug


def _bounded(section: str, key: str, value: float) -> Any:
    low, high = BOUNDS.get((section, key), (0, None))
    if value < low or (high is not None and value > high):
        span = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"config: [{section}] {key} must be {span} (got {value:g})")
    return value


def _section_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def parse(data: dict[str, Any], base_dir: Path = DATA_DIR) -> Config:
    """Build a Config from parsed TOML, rejecting anything unknown."""
    top = _section_types(Config)
    sections: dict[str, Any] = {}
    for name, body in data.items():
        if name not in top or name == "base_dir":
            known = ", ".join(k for k in top if k != "base_dir")
            raise ConfigError(f"config: unknown section [{name}] (known: {known})")
        if not isinstance(body, dict):
            raise ConfigError(f"config: [{name}] must be a table")
        cls = top[name]
        types_ = _section_types(cls)
        values = {}
        for key, value in body.items():
            if key not in types_:
                raise ConfigError(f"config: unknown key '{key}' in [{name}] (known: {', '.join(types_)})")
            values[key] = _coerce(name, key, value, types_[key])
        sections[name] = cls(**values)
    return Config(**sections, base_dir=base_dir)


def load(path: Path | None) -> Config:
    """Load `path`; None means built-in defaults. Errors are one-line ConfigErrors."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: cannot read {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None
    return parse(data, base_dir=path.resolve().parent)



def _notes(cls: type) -> dict[str, str]:
    """Each field's comment in the source (the lines above it and the one after it): the reference text."""
    notes: dict[str, str] = {}
    above: list[str] = []
    for line in inspect.getsource(cls).splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
            continue
        match = re.match(r"\s{4}(\w+): [^=]+=", line)
        if match:
            after = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            notes[match.group(1)] = " ".join([*above, after]).strip()
        if not stripped.startswith(("'", '"')):  # continuation lines of a long default keep the comment
            above = []
    return notes


def _shown(value: Any) -> str:
    value = _jsonable(value)
    if isinstance(value, list) and len(value) > 6:
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value[:6]) + ", …]"
    return json.dumps(value, ensure_ascii=False)


def reference() -> str:
    """The configuration reference (Markdown), generated from the dataclasses above: the README carries
    it, and a test fails when the two drift apart."""
    out = []
    top = _section_types(Config)
    for name, cls in top.items():
        if name == "base_dir":
            continue
        out += [f"#### `[{name}]`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        notes, defaults, types_ = _notes(cls), cls(), _section_types(cls)
        for key, annotation in types_.items():
            allowed = ENUMS.get((name, key))
            meaning = "; ".join(filter(None, [notes.get(key, ""), f"one of: {', '.join(allowed)}" if allowed else ""]))
            kind = "list of strings" if typing.get_origin(annotation) is tuple else annotation.__name__
            out.append(f"| `{key}` | {kind} | `{_shown(getattr(defaults, key))}` | {meaning.replace('|', '/')} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
