from __future__ import annotations

from copy import deepcopy
from dataclasses import replace
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import ConfigError, DedupConfig
from pipeline.corpus import dedup
from pipeline.model import Claim, Document
from pipeline.text import canonical
from tests.conftest import clusters, merge_pages

CFG = DedupConfig()
LONG = ("新媒体运营是通过现代化互联网手段，利用微信、微博、贴吧等新兴媒体平台工具"
        "进行产品宣传、推广和营销的一系列运营手段。")
REWORDED = ("新媒体运营是通过现代化移动互联网手段，利用抖音、快手、微信、微博、贴吧等新兴媒体平台工具"
            "进行产品宣传、推广、营销的一系列运营手段。")


def doc(path: str, doc_id: str, *claims: str, roles: tuple[str, ...] = ("operations",), text: str | None = None,
        seen: str = "2026-01-01") -> Document:
    return Document(path, "text", doc_id=doc_id, text=text if text is not None else "\n".join(claims),
                    claims=tuple(Claim(c, roles=roles, claim_type="other") for c in claims),
                    first_seen=seen, last_seen=seen)


def test_exact_dedup_across_script_width_and_punctuation() -> None:
    _, merged = merge_pages([
        doc("a.txt", "A", "運營負責增長。"),
        doc("b.txt", "B", "运营负责增长"),
        doc("c.txt", "C", "运营负责增长", "推广负责曝光。"),
    ])
    found = list(merged.clusters())
    assert len(found) == 2
    first = found[0]
    assert first.text == "运营负责增长"  # the wording most pages use represents the claim
    assert first.doc_ids == ("A", "B", "C")
    occurrences = list(merged.occurrence_rows())
    assert [o[0] for o in occurrences].count(first.claim_id) == 3
    assert merged.occurrences == 4 and merged.claims == 2


def test_lightly_reworded_claims_merge_after_verification() -> None:
    a, b = dedup.shingles(dedup.canonical(LONG), 3), dedup.shingles(dedup.canonical(REWORDED), 3)
    assert 0.6 <= dedup.jaccard(a, b) < 0.8  # reworded, not a copy
    found = clusters([doc("a.txt", "A", LONG), doc("b.txt", "B", REWORDED)])
    assert len(found) == 1
    assert found[0].doc_ids == ("A", "B")


@pytest.mark.parametrize(("one", "other", "why"), [
    ("产品运营负责用户增长和留存的所有相关工作", "内容运营负责用户增长和留存的所有相关工作", "different roles"),
    ("互联网运营一般分为4种岗位，分别负责不同工作", "互联网运营一般分为5种岗位，分别负责不同工作", "different numbers"),
    ("运营人员需要直接面对用户并且处理所有的反馈", "运营人员不需要直接面对用户并且处理所有的反馈", "a negation"),
    ("运营人员需要耐心地面对用户", "运营人员需要细心地整理数据", "too little in common"),
])
def test_look_alikes_stay_apart(one: str, other: str, why: str) -> None:
    roles_one = ("product_operations",) if why == "different roles" else ("operations",)
    roles_other = ("content_operations",) if why == "different roles" else ("operations",)
    pages = [doc("a.txt", "A", one, roles=roles_one), doc("b.txt", "B", other, roles=roles_other)]
    assert len(clusters(pages)) == 2, why


def test_reading_order_and_supporting_pages_follow_paths_not_ingest_order() -> None:
    # ingested b, a, c: the claims table holds them in that order, the corpus reads in path order
    found = clusters([doc("b.txt", "B", "推广负责曝光。", "运营负责增长。"), doc("a.txt", "A", "运营负责增长。"),
                      doc("c.txt", "C", "推广负责曝光。")])
    assert [c.text for c in found] == ["运营负责增长。", "推广负责曝光。"]  # first met in a.txt, then b.txt
    assert [c.doc_ids for c in found] == [("A", "B"), ("B", "C")]


def test_claim_ids_do_not_depend_on_input_order() -> None:
    docs = [doc("a.txt", "A", "运营负责增长。"), doc("b.txt", "B", "推广负责曝光。")]
    one = {c.text: c.claim_id for c in clusters(docs)}
    two = {c.text: c.claim_id for c in clusters(list(reversed(docs)))}
    assert one == two


def test_claim_id_kept_when_later_nights_add_members_and_a_better_wording() -> None:
    night1 = [doc("a.txt", "A", LONG, seen="2026-01-01")]
    db, merged = merge_pages(night1)
    first = next(merged.clusters())
    night2 = [doc(f"{n}.txt", n, REWORDED, seen="2026-01-02") for n in "BCD"]
    second = clusters(night2, db=db)
    assert len(second) == 1
    assert second[0].claim_id == first.claim_id
    assert second[0].text == REWORDED  # three pages use it now
    assert (second[0].first_seen, second[0].last_seen) == ("2026-01-01", "2026-01-02")


def test_ids_stay_unique_when_a_cluster_splits() -> None:
    db, merged = merge_pages([doc("a.txt", "A", LONG), doc("b.txt", "B", REWORDED)])
    assert merged.claims == 1
    apart = replace(CFG, threshold=0.99)  # the same keys no longer merge
    ids = [c.claim_id for c in clusters([], apart, db)]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_republished_page_in_another_script_is_marked_duplicate_of_the_earliest() -> None:
    body = ("运营是连接用户和产品的桥梁，负责拉新、留存和促活。市场部创造和管理消费者的无形价值。"
            "推广人员把外面的新用户拉进来，运营人员把他们留下来。新媒体运营偏向内部工作，营销偏向对外。")
    original = doc("z.txt", "Z", "运营负责增长。", text=body, seen="2026-01-01")
    copy = doc("a.txt", "A", "運營負責增長。", text=dedup_traditional(body) + "转载自某网站", seen="2026-01-02")
    db, merged = merge_pages([copy, original])
    assert merged.duplicate_documents == 1
    assert {d.doc_id: duplicate_of for d, duplicate_of in db.pages()} == {"A": "Z", "Z": None}
    assert next(merged.clusters()).doc_ids == ("A", "Z")  # its claims still count as support


def dedup_traditional(text: str) -> str:
    from pipeline.text import converter
    return converter("s2t").convert(text)


KEYS = st.lists(st.text(alphabet="产品运营内容用户ab1\U00020000", max_size=12), min_size=1, max_size=6)


@given(KEYS, st.integers(1, 5))
def test_ngram_hashes_are_the_shingles(keys: list[str], k: int) -> None:
    """Each key's hashes stand for its n-grams one to one (as `shingles` defines them, short keys and
    characters beyond the BMP included), so two keys share as many hashes as n-grams."""
    hashes, offsets = dedup.ngram_hashes(keys, k)
    assert offsets[0] == 0 and offsets[-1] == len(hashes)
    of_key = [set(hashes[offsets[i]:offsets[i + 1]].tolist()) for i in range(len(keys))]
    grams = [dedup.shingles(key, k) for key in keys]
    for i in range(len(keys)):
        assert len(of_key[i]) == len(grams[i])
        for j in range(i):
            assert len(of_key[i] & of_key[j]) == len(grams[i] & grams[j])


@given(st.text(alphabet="产品运營内容ab1 ，", max_size=80), st.integers(1, 30))
def test_a_page_signed_in_pieces_has_the_signature_of_the_whole(text: str, piece: int) -> None:
    key = canonical(text)
    with patch.object(dedup, "PAGE_PIECE", piece):
        assert dedup.page_signature(text, CFG) == dedup.signatures([key], CFG.doc_shingle, CFG.num_perm)[0]


def test_signature_slots_estimate_the_jaccard() -> None:
    """The share of equal slots follows the true Jaccard of the n-gram sets (128 slots: within 0.15)."""
    rng = np.random.default_rng(7)
    base = "".join(rng.choice(list("产品运营内容用户新媒体市场推广专员负责数据分析"), size=60))
    for changed in (0, 5, 15, 30):
        other = list(base)
        for i in rng.choice(len(base), size=changed, replace=False):
            other[i] = "甲"
        a, b = dedup.signatures([base, "".join(other)], 3, 128)
        estimate = float((np.frombuffer(a, np.uint32) == np.frombuffer(b, np.uint32)).mean())
        assert abs(estimate - dedup.jaccard(dedup.shingles(base, 3), dedup.shingles("".join(other), 3))) < 0.15


def test_union_find_joins_chains() -> None:
    items = ["甲乙丙丁戊己", "甲乙丙丁戊庚", "乙丙丁戊庚辛"]  # 1≈2 and 2≈3, but 1 and 3 share little
    grams = [dedup.shingles(item, 2) for item in items]
    assert dedup.jaccard(grams[0], grams[2]) < 0.5

    def similar(a: int, b: int) -> bool:
        return dedup.jaccard(grams[a], grams[b]) >= 0.5

    matrix = dedup.matrix_of(dedup.signatures(items, 2, 128), 128)
    assert dedup.group(3, (matrix[:, band * 4:band * 4 + 4] for band in range(32)), similar) == [0, 0, 0]


@given(st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=60))
def test_flatten_points_every_row_at_its_root(shares: list[float]) -> None:
    """Any union-find forest (each row's parent an earlier row or itself, chains as deep as they come)."""
    uf = dedup.UnionFind(len(shares))
    for i, share in enumerate(shares):
        uf.parent[i] = int(share * (i + 1))
    copy = deepcopy(uf)
    roots = [copy.find(i) for i in range(len(shares))]
    dedup._flatten(np.frombuffer(uf.parent, dtype=np.int64))
    assert list(uf.parent) == roots  # in the union-find's own memory


def test_candidates_pair_each_row_with_the_one_before_and_the_first_of_its_bucket() -> None:
    band = np.array([[7, 7], [1, 2], [7, 7], [7, 7], [1, 2], [5, 5]], dtype=np.uint32)
    first, second = dedup.candidates(band)
    assert sorted(zip(first.tolist(), second.tolist(), strict=True)) == [(0, 2), (0, 3), (1, 4), (2, 3)]


def test_a_filter_that_holds_wherever_similar_does_changes_no_group() -> None:
    rng = np.random.default_rng(3)
    bands = [rng.integers(0, 3, size=(200, 2), dtype=np.uint32) for _ in range(4)]  # many collisions
    parity = np.arange(200) % 2

    def similar(a: int, b: int) -> bool:
        return (a + b) % 2 == 0 and (a * b) % 3 != 1

    def maybe(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return parity[a] == parity[b]

    plain = dedup.group(200, iter(bands), similar)
    assert dedup.group(200, iter(bands), similar, maybe) == plain
    assert len(set(plain)) < 200  # something was joined


def test_bad_lsh_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="multiple of bands"):
        DedupConfig(num_perm=100, bands=32)


def test_a_page_given_again_on_a_later_night_replaces_itself() -> None:
    db, _ = merge_pages([doc("a.txt", "A", LONG, seen="2026-01-01")])
    again = clusters([doc("a.txt", "A2", REWORDED, seen="2026-01-02")], db=db)
    assert [(c.text, c.doc_ids) for c in again] == [(REWORDED, ("A2",))]
