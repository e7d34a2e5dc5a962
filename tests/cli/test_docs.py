"""The README stays true: its configuration reference matches the code, and its examples run."""

from __future__ import annotations

import json
import re
import shlex
import shutil
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


COMMANDS = [line.split(".venv/bin/python -m pipeline ", 1)[1] for line in TEXT.splitlines()
            if ".venv/bin/python -m pipeline " in line and "$SHARED" not in line]


def test_the_readme_commands_run_as_written(tmp_path: Path) -> None:
    """Every `.venv/bin/python -m pipeline …` line of the README, in a copy of the project: after `make
    run` (ingest raw/ into clean/), with /data/pages a folder of pages and the cron line's log a file."""
    assert len(COMMANDS) >= 4
    shutil.copytree(PROJECT / "raw", tmp_path / "raw")
    shutil.copytree(PROJECT / "raw", tmp_path / "data" / "pages")

    def run(words: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline", *words], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    assert run(["ingest", "raw/"]).returncode == 0  # make run
    for command in COMMANDS:
        command, _, log = command.replace("/data/", f"{tmp_path}/data/").partition(" 2>>")
        result = run(shlex.split(command))
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout or result.stderr, command
        if log:  # the cron line: one JSON object a line, the summary last
            lines = [json.loads(line) for line in result.stderr.splitlines()]
            assert lines[-1]["logger"] == "pipeline.summary" and lines[-1]["pages_in"] == 4, log
    assert (tmp_path / "data" / "corpus" / "report.html").is_file()


def test_no_readme_command_assumes_where_the_shared_samples_are() -> None:
    commands = [line for line in TEXT.splitlines() if line.startswith("    ") and ("python" in line or "make" in line)]
    assert commands and not [line for line in commands if "../shared" in line]
