from __future__ import annotations

import pytest

from pipeline import roles
from pipeline.config import Config
from pipeline.model import Claim, Document


@pytest.fixture(scope="module")
def lexicon(cfg: Config) -> roles.Lexicon:
    return roles.load_lexicon(cfg.data_file(cfg.roles.lexicon))


@pytest.fixture(scope="module")
def stage(cfg: Config):
    return roles.make(cfg.roles, cfg)


@pytest.mark.parametrize(("text", "expected"), [
    ("产品运营负责用户增长", ("product_operations",)),
    ("互联网产品运营和市场推广", ("product_operations", "market_promotion")),
    ("运维工程师负责服务器", ()),
    ("电信运营商提供网络服务", ()),
    ("做好PR和BD", ("pr", "bd")),
    ("PROMOTION 与 BDX 不是角色", ()),
    ("互联网sem运营", ("sem", "operations")),
    ("新媒体营销偏向对外", ("new_media_marketing",)),
])
def test_lexicon_longest_match(lexicon: roles.Lexicon, text: str, expected: tuple[str, ...]) -> None:
    assert lexicon.find(text) == expected


def test_every_roles_md_id_present(lexicon: roles.Lexicon) -> None:
    ids = {r.id for r in lexicon.roles}
    assert {"operations", "sem", "seo", "coo", "new_media_marketing", "media_buying", "bd", "pr"} <= ids
    assert lexicon.version == "roles_v1"


def test_roleless_claim_takes_heading_role(stage) -> None:
    doc = Document("a", "text", claims=(Claim("执行搜索引擎竞价排名工作；", ("SEM具体岗位职责",)),
                                        Claim("天气很好，大家都出去玩了。", ("杂谈",))))
    out = stage(doc)
    assert [(c.roles, c.claim_type) for c in out.claims] == [(("sem",), "responsibility")]


@pytest.mark.parametrize(("text", "section", "expected"), [
    ("用户运营是指以用户为中心的运营", (), "definition"),
    ("市场营销更倾向于利用内容来获取流量", (), "comparison"),
    ("互联网运营分为4种", (), "classification"),
    ("负责公司网站的SEM推广", (), "responsibility"),
    ("运营工作流程：用户获取、建立联系、促进活跃", (), "workflow"),
    ("扩大用户群；", ("互联网运营的目标",), "goal"),
    ("需要具备两年以上SEM经验", (), "requirement"),
    ("运营人员很辛苦", (), "other"),
])
def test_claim_types(cfg: Config, text: str, section: tuple[str, ...], expected: str) -> None:
    types = roles.load_types(cfg.data_file(cfg.roles.claim_types))
    assert roles.classify(text, section, types) == expected
