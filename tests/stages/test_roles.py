from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import Config, ConfigError, SegmentConfig
from pipeline.model import Claim, Document
from pipeline.stages import roles, segment


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
    ("运营者的日常工作包括选题规划。", ("而“新媒体运营”偏向内部工作",), ("new_media_operations",)),
    ("营销者要做用户分析。", ("新媒体营销偏向对外",), ("new_media_marketing",)),
    ("运营是指让产品正常运作的手段。", ("什么是运营？什么是新媒体运营？",), ("operations",)),
    ("运营很杂，产品运营只是其中一种。", ("产品运营",), ("operations", "product_operations")),
    ("运营要看数据。", ("产品运营和内容运营的区别",), ("operations",)),
    ("负责竞价推广账户。", ("SEM岗位职责",), ("sem",)),
])
def test_broader_role_becomes_the_narrower_one_of_its_context(stage, text: str, section: tuple[str, ...],
                                                               expected: tuple[str, ...]) -> None:
    doc = Document("a", "text", title="产品运营", claims=(Claim(text, section),))
    assert stage(doc).claims[0].roles == expected


def test_page_not_about_roles_gives_no_claims_and_records_why(stage) -> None:
    texts = ("销售电价面临上涨压力。", "超市的销售点挤满了人。", "推广普及新技术。")
    news = tuple(Claim(t, ("电价改革",)) for t in texts)
    first = stage(Document("a", "text", title="华东上调电价", claims=news))
    again = stage(replace(first, claims=news))  # segmented and tagged again after templates: not doubled
    assert first.claims == again.claims == ()
    assert [(r.stage, r.rule) for r in again.removed] == [("roles", "roles.off_topic")] * 3


@pytest.mark.parametrize(("title", "sections", "texts"), [
    ("运营是什么", (), ("运营负责增长。",)),
    (None, ("内容运营",), ("负责写稿。",)),
    (None, ("销售的职责", "销售的技能"), ("销售负责成交。", "销售要会沟通。")),
    (None, (), ("SEM专员负责账户。", "SEO专员负责排名。", "产品经理负责需求。")),
])
def test_page_about_roles(stage, title: str | None, sections: tuple[str, ...], texts: tuple[str, ...]) -> None:
    claims = tuple(Claim(t, sections[i:i + 1]) for i, t in enumerate(texts))
    assert stage(Document("a", "text", title=title, claims=claims)).claims


def test_lexicon_errors_are_config_errors(tmp_path) -> None:
    bad = tmp_path / "roles.toml"
    bad.write_text('[[role]]\nid = "x"\nname = "X运营"\nbroader = "nobody"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown role nobody"):
        roles.load_lexicon(bad)
    bad.write_text('weak = ["天气"]\n[[role]]\nid = "x"\nname = "X运营"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="天气"):
        roles.load_lexicon(bad)


def test_sentence_takes_its_paragraph_subject_before_its_heading(stage) -> None:
    heading = ("运营的区别",)
    claims = (Claim("内容运营重在拉新。", heading, paragraph=0), Claim("它需要持续写稿。", heading, paragraph=0),
              Claim("它需要持续写稿。", heading, paragraph=1))
    out = stage(Document("a", "text", title="运营", claims=claims))
    assert [c.roles for c in out.claims] == [("content_operations",), ("content_operations",), ("operations",)]


def test_a_paragraph_about_a_job_that_is_no_role_gives_no_claims(stage) -> None:
    claims = (Claim("新媒体编辑的工作主要是排版。", paragraph=0), Claim("他们还要写标题。", paragraph=0),
              Claim("广告运营经理需制定投放计划。", paragraph=1), Claim("同时需控制预算。", paragraph=1),
              Claim("负责账号的日常更新。", paragraph=2))
    out = stage(Document("a", "text", title="新媒体运营的工作", claims=claims))
    assert [(c.text, c.roles) for c in out.claims] == [
        ("广告运营经理需制定投放计划。", ("media_buying",)),  # a role's people: its role
        ("同时需控制预算。", ("media_buying",)),
        ("负责账号的日常更新。", ("new_media_operations",)),  # a new paragraph: the page's role again
    ]


def test_a_paragraph_about_a_word_that_holds_a_role_s_word_gives_no_claims(stage) -> None:
    claims = (Claim("私域运营是企业经营用户的方式。", paragraph=0), Claim("它强调长期经营。", paragraph=0),
              Claim("社群运营负责维护社群。", paragraph=1))
    out = stage(Document("a", "text", title="私域运营和社群运营的区别", claims=claims))
    assert [c.text for c in out.claims] == ["社群运营负责维护社群。"]


def test_a_claim_naming_both_roles_a_page_compares_is_about_both(stage) -> None:
    claims = (Claim("网络推广是网络营销成功的关键。"), Claim("网络推广要考虑销售的需求。"))
    out = stage(Document("a", "text", title="网络推广和网络营销的区别", claims=claims))
    assert [c.roles for c in out.claims] == [("market_promotion", "marketing"), ("market_promotion",)]


def test_an_untitled_page_compares_the_two_roles_its_claims_name_about_as_often(stage) -> None:
    claims = tuple(Claim(t) for t in ("网络推广侧重曝光。", "网络营销侧重转化。", "网络推广要快。", "网络营销要稳。",
                                       "网络推广见效快。", "网络推广是网络营销的一环。"))
    out = stage(Document("a", "text", claims=claims))
    assert out.claims[-1].roles == ("market_promotion", "marketing")
    related = tuple(Claim(t) for t in ("运营要看数据。", "网站运营要看流量。", "运营要写方案。", "网站运营要做推广。",
                                        "运营是网站运营的上级。"))
    assert stage(Document("a", "text", claims=related)).claims[-1].roles == ("operations",)  # a role and its kind


def test_the_people_of_a_role_named_by_a_longer_term_are_its_people(stage) -> None:
    claims = (Claim("运营人员需要监控投放效果。"), Claim("市场推广要做活动。"))
    out = stage(Document("a", "text", title="信息流广告运营岗的岗位职责", claims=claims))
    assert [c.roles for c in out.claims] == [("media_buying",), ("market_promotion",)]


def test_a_title_names_the_page_s_role_even_as_a_modifier(stage) -> None:
    item = Claim("用户增长：目标用户数量、增长速度")
    out = stage(Document("a", "text", title="《社群运营思维导图》", claims=(item,)))
    assert [c.roles for c in out.claims] == [("social_group_operations",)]


@pytest.mark.parametrize(("text", "want"), [
    ("宣传推广：负责活动的宣传工作。", ("activity_operations",)),  # a task named by an everyday role word
    ("推广：负责活动的宣传工作。", ("activity_operations", "market_promotion")),  # the label is the role's name
    ("推广（对外）：负责活动的宣传工作。", ("activity_operations", "market_promotion")),
])
def test_a_label_naming_a_task_by_a_role_word_is_the_heading_s_work(stage, text: str, want: tuple[str, ...]) -> None:
    out = stage(Document("a", "text", title="岗位说明", claims=(Claim(text, ("活动运营的工作",)),)))
    assert [c.roles for c in out.claims] == [want]


def test_everyday_role_word_unrelated_to_the_heading_adds_to_it(stage) -> None:
    claims = (Claim("投放要看关键词。", ("SEM岗位职责",)), Claim("运营要看数据。", ("产品运营和内容运营的区别",)))
    out = stage(Document("a", "text", title="运营", claims=claims))
    assert [c.roles for c in out.claims] == [("sem", "media_buying"), ("operations",)]


@pytest.mark.parametrize(("text", "want"), [
    ("团队协作：与设计师、销售人员紧密合作。", ("product_manager",)),  # named in passing: the heading's
    ("根据数据调整运营策略。", ("product_manager",)),  # 运营 modifies a noun
    ("在营销推广方面，要控制成本。", ("product_manager",)),  # inside an adverbial
    ("销售人员负责成交。", ("sales",)),  # the subject of its clause
    ("内容运营和用户运营的区别在于对象。", ("content_operations", "user_operations")),  # both sides
    ("互联网的产品运营，是一个管理的概念。", ("product_operations",)),  # a clause that is only its topic
    ("而“内容运营”偏向内部。", ("content_operations",)),  # quotes are not words
])
def test_roles_are_the_subjects_not_words_in_passing(stage, text: str, want: tuple[str, ...]) -> None:
    out = stage(Document("a", "text", title="产品经理的职责", claims=(Claim(text, ("产品经理的职责",)),)))
    assert [c.roles for c in out.claims] == [want]


def test_page_without_a_role_title_takes_the_subject_its_claims_name_most(stage) -> None:
    claims = (Claim("用户运营负责留存。", paragraph=0), Claim("用户运营负责拉新。", paragraph=1),
              Claim("内容运营负责写稿。", paragraph=2), Claim("用户运营负责促活。", paragraph=3),
              Claim("设计奖励。", paragraph=4))
    out = stage(Document("a", "text", title="岗位说明", claims=claims))
    assert [c.roles for c in out.claims][-1] == ("user_operations",)


def test_a_sentence_with_no_role_anywhere_is_no_claim(stage) -> None:
    claims = (Claim("负责写稿。", ("内容运营的职责",)), Claim("负责拉新。", ("用户运营的职责",)),
              Claim("天气很好。", ("杂谈",)))
    out = stage(Document("a", "text", title="岗位说明", claims=claims))
    assert [(c.text, c.basis) for c in out.claims] == [("负责写稿。", "heading"), ("负责拉新。", "heading")]
    assert not out.removed  # article text about something else: no claim, and nothing was cleaned


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["内容运营负责写稿", "与销售合作", "运营商", "SEM专员", "，", "。", "和", "产品经理",
                                 "运营策略", "（", "）", "COO"]), max_size=30))
def test_one_pass_over_the_page_finds_what_each_sentence_finds(lexicon: roles.Lexicon, words: list[str]) -> None:
    doc = segment.make(SegmentConfig())(Document("a", "text", lines=("".join(words),)))
    assert lexicon.analyse_page(doc.text, doc.claims) == [lexicon.analyse(c.text) for c in doc.claims]
