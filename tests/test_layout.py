"""The package layout is the data flow: a module imports only from its own layer or the ones below it,
no two modules import each other (directly or round a longer loop), and only the command line parses
arguments, draws progress or looks at a terminal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
# Lowest first. A module in a folder is in that folder's layer; the top-level modules are shared by all.
LAYERS = ("pipeline", "pipeline.stages", "pipeline.corpus", "pipeline.output", "pipeline.run", "pipeline.cli",
          "pipeline.__main__")
TERMINAL = ("argparse", "tqdm")  # what only the command line may import


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    """The index in LAYERS of the longest layer the module is in."""
    return max(i for i, name in enumerate(LAYERS) if module == name or (module.startswith(name + ".")
               and (name != "pipeline" or module.count(".") == 1)))


def imports(path: Path) -> set[str]:
    """The pipeline modules (and the terminal libraries) a module imports, anywhere in it."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import roles`: a module
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != module} | {
        name for name in found if name.split(".")[0] in TERMINAL}


GRAPH = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_nothing_from_a_layer_above_its_own(module: str) -> None:
    upward = sorted(m for m in GRAPH[module] if m.startswith("pipeline") and layer(m) > layer(module))
    assert not upward, f"{module} (layer {LAYERS[layer(module)]}) imports {upward}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_only_the_command_line_parses_arguments_or_draws_progress(module: str) -> None:
    terminal = sorted(m for m in GRAPH[module] if m.split(".")[0] in TERMINAL)
    assert layer(module) >= LAYERS.index("pipeline.cli") or not terminal, f"{module} imports {terminal}"


def test_no_modules_import_each_other_round_a_loop() -> None:
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            pytest.fail("import loop: " + " -> ".join((*path[path.index(module):], module)))
        if module in done:
            return
        for other in GRAPH.get(module, ()):
            if other in GRAPH and other != module.rpartition(".")[0]:  # a package's own __init__ is no loop
                visit(other, (*path, module))
        done.add(module)

    for module in GRAPH:
        visit(module, ())


def test_the_layer_test_sees_an_upward_import() -> None:
    """The walk finds what it must: cli imports run, run imports stages (so the checks above can fail)."""
    assert "pipeline.run.runner" in GRAPH["pipeline.cli.main"]
    assert "pipeline.stages.roles" in GRAPH["pipeline.run.runner"]
    assert layer("pipeline.cli.main") > layer("pipeline.run.runner") > layer("pipeline.stages.roles") > layer(
        "pipeline.config")
