from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config, ConfigError
from pipeline.model import Claim, Document
from pipeline.stages import claims


@pytest.fixture(scope="module")
def stage(cfg: Config):
    return claims.make(cfg.claims, cfg)


def page(*sentences: tuple[str, str]) -> Document:
    """A page of one paragraph a line; each sentence with the basis its roles came from."""
    text = "\n".join(s for s, _ in sentences)
    out, at = [], 0
    for i, (s, basis) in enumerate(sentences):
        out.append(Claim(s, roles=("product_manager",), char_start=at, char_end=at + len(s), paragraph=i, basis=basis))
        at += len(s) + 1
    return Document("a.txt", "text", title="产品经理的职责", text=text, claims=tuple(out))


CLAIM = ("产品经理负责需求分析、产品规划和版本迭代，并协调设计与开发。", "subject")


def test_a_statement_about_a_role_stays_and_an_example_goes(stage) -> None:
    out = stage(page(CLAIM, ("比如你在做自媒体的时候，各个平台都有数据中心。", "paragraph"), CLAIM))
    assert [c.text for c in out.claims] == [CLAIM[0], CLAIM[0]]
    (gone,) = out.removed
    assert gone.rule == "claims.not_claim" and "example" in gone.why  # explain says which features decided


def test_a_last_sentence_cut_off_by_the_end_of_the_text_goes(stage) -> None:
    out = stage(page(CLAIM, ("产品经理还需要跟进数据，持续优化用户体验和转化的", "paragraph")))
    assert [r.rule for r in out.removed] == ["claims.cut_off"]
    short = stage(page(CLAIM, ("制定产品路线图", "heading")))  # a short last line is a list item
    assert "claims.cut_off" not in [r.rule for r in short.removed]


def test_features_are_the_model_s(cfg: Config) -> None:
    doc = page(CLAIM)
    (x,) = claims.page_features(doc)
    assert len(x) == len(claims.FEATURES) and all(0.0 <= v <= 1.0 for v in x)
    model = claims.load_model(cfg.data_file(cfg.claims.model))
    assert len(model.weights) == len(claims.FEATURES) and 0 < model.keep < 1


def test_a_model_file_for_other_features_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text("[weights]\nbias = 1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="exactly the features"):
        claims.load_model(bad)


def test_a_template_s_blank_is_no_claim(stage) -> None:
    blanks = (("工作地点：[企业所在地，含办公区、业务现场等]", "heading"), ("负责XX项目的推广和运营。", "heading"))
    out = stage(page(CLAIM, *blanks, CLAIM))
    assert [r.rule for r in out.removed] == ["claims.placeholder", "claims.placeholder"]


@pytest.mark.parametrize(("text", "rule"), [
    ("本文将从产品视角出发，为产品经理提供一份实用指南。", "claims.meta"),
    ("因此，今天我们来聊聊产品经理到底做什么。", "claims.meta"),
    ("产品经理的主要工作职责可以归纳为以下几个方面。", "claims.announce"),
    ("（有经验的产品经理可以迅速制定，没有经验的则一起协商。）", "claims.aside"),
    ("产品经理主要会负责以下几项任务", "claims.announce"),
])
def test_the_article_talking_about_itself_is_no_claim(stage, text: str, rule: str) -> None:
    out = stage(page(CLAIM, (text, "subject"), CLAIM))
    assert [r.rule for r in out.removed] == [rule]


def test_a_claim_rules_file_that_does_not_load_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "r.toml"
    bad.write_text('[[rule]]\nid = "x"\npattern = "("\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot load the claim rules"):
        claims.load_rules(bad)


@pytest.mark.parametrize(("rules", "kept", "why"), [
    ({"roles.off_topic", "claims.not_claim"}, 7, "off_topic"),  # a page not about roles, first
    (set(), 0, "no_text"),
    ({"segment.short", "claims.example"}, 9, "not_claims"),  # a sentence about a role was judged no claim
    ({"segment.short", "boilerplate.x"}, 7, "no_role"),  # segment removals are any sentence's
])
def test_why_a_page_gives_no_claims(rules: set[str], kept: int, why: str) -> None:
    assert claims.why_none(rules, kept) == why and why in claims.NO_CLAIMS
