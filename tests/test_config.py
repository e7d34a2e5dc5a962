from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.config import ConfigError

from .conftest import PROJECT


def test_project_config_loads_and_matches_defaults() -> None:
    loaded = config.load(PROJECT / "config.toml")
    assert loaded.as_dict() == config.Config().as_dict()


@pytest.mark.parametrize(("text", "message"), [
    ("[nope]\n", "unknown section [nope]"),
    ("[segment]\nmax_claims = 3\n", "unknown key 'max_claims' in [segment]"),
    ("[segment]\nmax_claim_chars = 'long'\n", "[segment] max_claim_chars must be a non-negative integer"),
    ("[normalise]\nopencc = 's2t'\n", "[normalise] opencc must be one of"),
    ("[write]\ncsv = 1\n", "[write] csv must be true or false"),
    ("[segment\n", "not valid TOML"),
    # values of the right type that would break a run (config.BOUNDS)
    ("[segment]\nmax_claim_chars = 0\n", "[segment] max_claim_chars must be from 20 to 100000"),
    ("[read]\nmax_decompressed_mb = nan\n", "[read] max_decompressed_mb must be a non-negative number"),
    ("[read]\nmax_file_mb = inf\n", "[read] max_file_mb must be a non-negative number"),
    ("[dedup]\nnum_perm = 100000000\n", "[dedup] num_perm must be from 16 to 1024"),
    ("[read]\nurl_sidecar_suffix = ''\n", "[read] url_sidecar_suffix must not be empty"),
    ("[read]\nhtml_suffixes = ['']\n", "[read] html_suffixes must be a list of non-empty strings"),
    ("[decode]\nmax_error_ratio = 2\n", "[decode] max_error_ratio must be from 0 to 1"),
])
def test_bad_config_is_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        config.load(tmp_path / "absent.toml")


def test_override_keeps_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[segment]\nmax_claim_chars = 120\n", encoding="utf-8")
    loaded = config.load(path)
    assert loaded.segment.max_claim_chars == 120
    assert loaded.segment.min_claim_chars == config.SegmentConfig().min_claim_chars


def test_data_file_relative_to_config_wins(tmp_path: Path) -> None:
    (tmp_path / "boilerplate.toml").write_text("", encoding="utf-8")
    (tmp_path / "c.toml").write_text("", encoding="utf-8")
    loaded = config.load(tmp_path / "c.toml")
    assert loaded.data_file("boilerplate.toml") == tmp_path / "boilerplate.toml"
    assert loaded.data_file("roles.toml") == config.DATA_DIR / "roles.toml"


def test_data_files_are_every_rule_and_lexicon_file(tmp_path: Path) -> None:
    (tmp_path / "roles.toml").write_text((config.DATA_DIR / "roles.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    files = config.load(tmp_path / "config.toml").data_files()
    assert files == {"boilerplate.rules": config.DATA_DIR / "boilerplate.toml",
                     "boilerplate.chrome_model": config.DATA_DIR / "chrome_model.toml",
                     "roles.lexicon": tmp_path / "roles.toml",
                     "roles.claim_types": config.DATA_DIR / "claim_types.toml",
                     "claims.model": config.DATA_DIR / "claim_model.toml",
                     "claims.rules": config.DATA_DIR / "claim_rules.toml"}
