from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import Config, ConfigError
from pipeline.stages import chrome

from ..conftest import case_ids, golden

CASES = golden("chrome")


@pytest.fixture(scope="module")
def model(cfg: Config) -> chrome.Model:
    return chrome.load_model(cfg.data_file(cfg.boilerplate.chrome_model))


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_golden(case: dict, model: chrome.Model) -> None:
    assert sorted(chrome.chrome_lines(case["lines"], model, case["ruled"])) == case["chrome"]


@given(st.text(max_size=80))
def test_features_are_numbers_in_the_unit_interval(line: str) -> None:
    values = chrome.features(line)
    assert len(values) == len(chrome.FEATURES)
    assert all(0.0 <= v <= 1.0 for v in values)


@given(st.text(max_size=80))
def test_probability_is_a_probability(line: str) -> None:
    m = chrome.Model(weights=(100.0,) * len(chrome.FEATURES))
    assert 0.0 <= m.probability(line) <= 1.0


def test_prose_and_chrome_fall_on_their_sides(model: chrome.Model) -> None:
    assert model.probability("浏览 1024 收藏 12") > model.sure
    assert model.probability("用户运营负责用户的拉新和留存。") < model.lean


def test_why_names_the_features_that_pushed_towards_chrome(model: chrome.Model) -> None:
    why = model.why("2020-03-01 阅读 1024").split(",")
    assert 1 <= len(why) <= 3 and set(why) <= set(chrome.FEATURES) - {"bias"}
    assert "datetime" in why


def test_model_naming_other_features_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text("[weights]\nbias = 1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="exactly the features"):
        chrome.load_model(bad)


def test_unreadable_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot load the chrome model"):
        chrome.load_model(tmp_path / "missing.toml")
