"""The README stays true: its configuration reference matches the code, and its examples run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli.docs import README, with_reference
from pipeline.cli.main import main

from ..conftest import PROJECT

TEXT = README.read_text(encoding="utf-8")


def test_config_reference_is_the_generated_one() -> None:
    assert with_reference(TEXT) == TEXT, "README's config reference is stale: run python -m pipeline.cli.docs"


def test_every_config_key_is_in_the_reference() -> None:
    from pipeline.config import Config

    for section, keys in Config().as_dict().items():
        for key in keys:
            assert f"| `{key}` |" in TEXT.split(f"#### `[{section}]`", 1)[1], (section, key)


EXAMPLES = re.findall(r"```python\n(.*?)```", TEXT.split("## Reading the corpus", 1)[1].split("\n## ", 1)[0], re.S)


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reader")
    assert main(["ingest", str(PROJECT / "raw"), "--out", str(folder / "clean"), "-q", "--workers", "1"]) == 0
    return folder


@pytest.mark.parametrize("code", EXAMPLES, ids=["pandas", "duckdb", "polars"])
def test_reading_examples_run(code: str, corpus_folder: Path) -> None:
    result = subprocess.run([sys.executable, "-c", code], cwd=corpus_folder, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search("运营|_operations", result.stdout), result.stdout  # it printed claims or their roles
