from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config, ConfigError
from pipeline.stages import claim_types, roles


@pytest.fixture(scope="module")
def lexicon(cfg: Config) -> roles.Lexicon:
    return roles.load_lexicon(cfg.data_file(cfg.roles.lexicon))


@pytest.fixture(scope="module")
def rules(cfg: Config) -> tuple[claim_types.TypeRule, ...]:
    return claim_types.load_types(cfg.data_file(cfg.roles.claim_types))


@pytest.mark.parametrize(("text", "section", "sides", "expected"), [
    ("用户运营是指以用户为中心的运营", (), 1, "definition"),
    ("市场营销更倾向于利用内容来获取流量", (), 1, "comparison"),
    ("互联网运营分为4种", (), 1, "classification"),
    ("负责公司网站的SEM推广", (), 0, "responsibility"),
    ("运营工作流程：用户获取、建立联系、促进活跃", (), 1, "workflow"),
    ("扩大用户群；", ("互联网运营的目标：",), 0, "goal"),
    ("需要具备两年以上SEM经验", (), 0, "requirement"),
    ("运营人员很辛苦", (), 1, "other"),
    ("互联网运营分为4种：内容运营、用户运营。", (), 3, "classification"),  # a list of kinds, not two sides
    ("内容运营：以内容的形式跟用户沟通，从而提高黏性", (), 1, "definition"),
    ("对于运营人而言，要看数据", (), 1, "other"),
    ("市场营销向外，而运营向内", (), 2, "comparison"),
    ("产品运营，是一个企业经营管理的概念", (), 1, "definition"),
    ("遇到的最多情况就是出现产品漏洞", (), 0, "other"),
    ("网站平台方面：优秀的平台是打响品牌的基础", (), 0, "other"),
    ("你去看《营销管理》，会发现它与运营不同", (), 0, "comparison"),
    ("你去看《营销管理》这本书", (), 0, "other"),
    ("而事实上，推广工作也会划分给运营", (), 1, "other"),
    ("网站设计美观大方，具备国际特色；", (), 0, "other"),
    ("内容运营：策划和编辑高质量的内容。", (), 1, "responsibility"),  # a label, then a duty verb
    ("具备较强的数据分析能力，能够深入挖掘数据", (), 0, "requirement"),
    ("产品经理是负责产品规划、设计和推出的职位。", (), 1, "definition"),
    ("市场工作针对的是事，运营工作针对的是人。", (), 2, "comparison"),  # two roles as subjects
    ("而推广则是通过各种营销手段传递信息。", (), 1, "comparison"),  # the second side of a contrast
    ("制定详细的活动流程，确保活动顺利进行。", (), 0, "responsibility"),  # 流程 inside a duty
    ("了解用户的需求，以便提供个性化的服务。", (), 0, "responsibility"),  # 以便 closing a duty
    ("数据运营的目的是通过分析发现问题。", (), 1, "goal"),
    ("所需技能：数据分析能力与市场洞察力。", (), 0, "requirement"),  # the label says what the item is
    ("直播策划能力能够根据需求进行策划。", (), 0, "requirement"),
    ("根据用户反馈调整功能。", (), 0, "responsibility"),  # a duty verb after what it is done with
    ("与设计团队合作优化落地页；", (), 0, "responsibility"),
    ("直播运营需要通过各种渠道推广直播内容。", (), 1, "responsibility"),  # a duty verb after 需要
    ("如果是BD，日常的工作就是收集目标合作者。", (), 1, "responsibility"),  # what its work is
    ("其本质是连接游戏产品与玩家的桥梁。", (), 0, "definition"),
    ("SEM，即搜索引擎营销，专注于用户主动搜索的行为。", (), 1, "definition"),
    ("社群运营：以构建用户社群为目标，组织线上活动。", (), 1, "goal"),  # the goal form beats the label's
    ("销售管理：通过制定销售策略管理销售团队。", (), 1, "responsibility"),
    ("运营专员：负责日常店铺运营和用户运营。", (), 2, "responsibility"),  # a label's duty, not two sides
    ("竞品分析：寻找差异化优势", (), 0, "responsibility"),  # 差异化 is no contrast
    ("选择适合的主题和类型，进行创意策划。", (), 0, "responsibility"),  # kinds are counted: 三种类型
    ("数据分析能力是此岗位的核心要求之一。", (), 0, "requirement"),
    ("用户运营岗负责粉丝增长，需要精通用户分层。", (), 1, "responsibility"),  # what it does comes first
    ("网络推广和网络营销是不同的概念。", (), 2, "comparison"),
    ("数据分析和Excel技能", (), 0, "requirement"),
])
def test_claim_types(rules, lexicon: roles.Lexicon, text: str, section: tuple[str, ...], sides: int,
                     expected: str) -> None:
    assert claim_types.classify(text, section, "", rules, lexicon.find, sides) == expected


def test_a_sentence_without_a_form_of_its_own_takes_the_title_s(rules, lexicon: roles.Lexicon) -> None:
    assert claim_types.classify("连接产品与用户", (), "产品经理岗位职责", rules, lexicon.find) == "responsibility"
    assert claim_types.classify("连接产品与用户", (), "", rules, lexicon.find) == "other"


def test_an_unknown_type_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text('[[type]]\nid = "duty"\npattern = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown claim types: duty"):
        claim_types.load_types(bad)


@pytest.mark.parametrize(("lead_in", "expected"), [
    ("对比维度、BD（商务拓展）、销售：", "comparison"),  # a table whose columns are two roles
    ("维度、推广、运营：", "comparison"),
    ("岗位名称、主要职责说明：", "goal"),  # columns that are no roles: the row's own form
    ("运营分为内容运营、用户运营：", "goal"),  # a list of kinds, not a table of sides
])
def test_rows_of_a_table_of_roles_compare_them(rules, lexicon: roles.Lexicon, lead_in: str, expected: str) -> None:
    assert claim_types.classify("目标是拓展合作，完成销售任务", (lead_in,), "", rules, lexicon.find) == expected
