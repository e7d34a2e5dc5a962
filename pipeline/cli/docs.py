"""`python -m pipeline.cli.docs`: write the configuration reference, generated from the config
dataclasses, into README.md (a test fails when the README's copy is out of date)."""

from __future__ import annotations

from pathlib import Path

from ..config import reference

README = Path(__file__).resolve().parents[2] / "README.md"
START = "<!-- config reference: generated, do not edit -->\n"
END = "<!-- end of config reference -->"


def with_reference(readme: str) -> str:
    """The README text with its reference section replaced by the generated one."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference()}\n{END}{tail}"


if __name__ == "__main__":
    README.write_text(with_reference(README.read_text(encoding="utf-8")), encoding="utf-8")
