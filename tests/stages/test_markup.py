from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.model import Document
from pipeline.stages import markup

from ..conftest import case_ids, golden

CASES = golden("markup")
STAGE = markup.make()


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_golden(case: dict) -> None:
    out = STAGE(Document("a.txt", "text", lines=tuple(case["lines"])))
    assert list(out.lines) == case["out"]


def test_what_goes_is_recorded() -> None:
    out = STAGE(Document("a.txt", "text", lines=("序号 | a | b |", "|---|---|---|", "1 | x | y |", "2 | z | w |")))
    assert sorted(r.rule for r in out.removed) == ["markup.row_number", "markup.row_number", "markup.table_rule"]
    assert STAGE(out) == out  # running it again changes nothing


@given(st.lists(st.text(alphabet="运营推广|*#-： 1", max_size=20), max_size=6))
def test_no_emphasis_is_left_and_a_second_run_changes_nothing(lines: list[str]) -> None:
    out = STAGE(Document("a.txt", "text", lines=tuple(lines)))
    assert all("**" not in line for line in out.lines)
    assert STAGE(out).lines == out.lines
