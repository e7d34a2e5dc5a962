from __future__ import annotations

from pipeline import dedup
from pipeline.model import Claim, Document


def doc(path: str, doc_id: str, *claims: str, text: str | None = None) -> Document:
    return Document(path, "text", doc_id=doc_id, text=text if text is not None else "\n".join(claims),
                    claims=tuple(Claim(c, roles=("operations",), claim_type="other") for c in claims))


def test_exact_dedup_across_script_width_and_punctuation() -> None:
    corpus = dedup.merge([
        doc("a.txt", "A", "運營負責增長。"),
        doc("b.txt", "B", "运营负责增长"),
        doc("c.txt", "C", "运营 负责 增长！", "推广负责曝光。"),
    ])
    assert len(corpus.clusters) == 2
    first = corpus.clusters[0]
    assert first.text == "運營負責增長。"  # the first seen wording represents the claim
    assert list(first.doc_ids) == ["A", "B", "C"]
    assert len(first.occurrences) == 3


def test_claim_ids_are_stable_and_order_independent() -> None:
    docs = [doc("a.txt", "A", "运营负责增长。"), doc("b.txt", "B", "推广负责曝光。")]
    one = {c.text: c.claim_id for c in dedup.merge(docs).clusters}
    two = {c.text: c.claim_id for c in dedup.merge(list(reversed(docs))).clusters}
    assert one == two


def test_republished_page_is_marked_duplicate() -> None:
    corpus = dedup.merge([doc("b.txt", "B", "运营负责增长。"), doc("a.txt", "A", "運營負責增長。")])
    assert corpus.duplicate_of == {"B": "A"}
    assert len(corpus.clusters[0].doc_ids) == 2
