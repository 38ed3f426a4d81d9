"""The shape of pipeline/: every stage has a home named after it, a stage imports only
earlier stages and shared modules, and no modules import each other in a cycle.

Imports are read with ``ast`` from the source, all of them: at module level, under
``TYPE_CHECKING`` and inside functions. A submodule's implicit import of its own package
(``pipeline.read.table`` runs ``pipeline/read/__init__.py`` first) is not counted: a
package's ``__init__`` importing its submodules is not a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "pipeline"

#: the stages in flow order (README, "Layout")
STAGES = ("read", "mapping", "normalize", "validate", "dedupe", "diff", "push", "report")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _resolve(name: str, known: Iterable[str]) -> str | None:
    """The known module ``name`` is, or is inside (``pipeline.read.RawTable`` is in
    ``pipeline.read``); None for anything outside ``pipeline``."""
    known = set(known)
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Every pipeline module ``name`` imports, anywhere in its source."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # from a package import a submodule, or a name defined in the package
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            resolved = _resolve(target, known)
            if resolved is not None and resolved != name:
                found.add(resolved)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports_of(name, path, found) for name, path in found.items()}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph.get(todo.pop(), set()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, set())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layering_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """What breaks the flow order: a stage that imports a later stage (directly or through
    any other module), and a shared module (not a stage, imported by one) that imports a
    stage."""
    problems = []
    for module in sorted(graph):
        stage = stage_of(module)
        if stage is None:
            continue
        rank = STAGES.index(stage)
        for target in sorted(reachable(graph, module)):
            other = stage_of(target)
            if other is not None and STAGES.index(other) > rank:
                problems.append(f"{module} reaches the later stage {other} (via {target})")
        for target in sorted(graph[module]):
            if stage_of(target) is None:
                leaks = sorted(t for t in reachable(graph, target) if stage_of(t) is not None)
                if leaks:
                    problems.append(f"{module} imports {target}, which imports stages: {leaks}")
    return problems


def test_every_stage_has_a_home_named_after_it() -> None:
    found = modules()
    missing = [s for s in STAGES if f"pipeline.{s}" not in found]
    assert not missing, f"no module or package for the stages {missing}"


def test_stages_import_only_earlier_stages_and_shared_modules() -> None:
    graph = import_graph()
    assert graph["pipeline.validate"] >= {
        "pipeline.normalize.phone_cells"
    }  # the graph sees imports
    assert layering_violations(graph) == []


def test_no_import_cycle_counting_type_checking_and_function_level_imports() -> None:
    assert cycles(import_graph()) == []


def test_the_public_import_paths_stay() -> None:
    """``pipeline.api``, ``pipeline.read`` and ``pipeline.phones.normalize_phones`` are
    what callers import (README, the Python API); their names moved, not their paths."""
    from pipeline import api, phones, read, result
    from pipeline.normalize import phones as normalize_phones_module

    assert api.RunResult is result.RunResult
    assert all(callable(f) for f in (api.validate, api.plan, api.sync))
    assert phones.normalize_phones is normalize_phones_module.normalize_phones
    for name in ("RawTable", "read_table", "read_chunks", "BLOCK_BYTES", "MALFORMED_ROW"):
        assert name in read.__all__ and hasattr(read, name)


# -- the checks themselves: each finds what it is there to find ------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pipeline"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_an_upward_import_inside_a_function_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "read/__init__.py": "from pipeline.read.table import RawTable\n",
            "read/table.py": "def f():\n    from pipeline.validate import check\n",
            "validate.py": "from pipeline.read import RawTable\ncheck = 1\n",
        },
    )
    graph = import_graph(root)
    assert graph["pipeline.read.table"] == {"pipeline.validate"}
    assert layering_violations(graph) == [
        "pipeline.read reaches the later stage validate (via pipeline.validate)",
        "pipeline.read.table reaches the later stage validate (via pipeline.validate)",
    ]
    assert cycles(graph) == [["pipeline.read", "pipeline.read.table", "pipeline.validate"]]


def test_a_type_checking_cycle_and_a_shared_module_leading_to_a_stage_are_found(
    tmp_path: Path,
) -> None:
    root = _tree(
        tmp_path,
        {
            "api.py": "def run():\n    from pipeline import html\n",
            "html.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from pipeline.api import Result\n",
            "mapping.py": "from . import config\n",
            "config.py": "from pipeline.read import BLOCK\n",
            "read.py": "BLOCK = 1\n",
        },
    )
    graph = import_graph(root)
    assert cycles(graph) == [["pipeline.api", "pipeline.html"]]
    assert layering_violations(graph) == [
        "pipeline.mapping imports pipeline.config, which imports stages: ['pipeline.read']"
    ]


def test_the_readme_layout_names_every_module_and_package_of_pipeline() -> None:
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    names = [p.name for p in ROOT.glob("*.py") if p.stem not in ("__init__", "__main__")]
    names += [f"{p.name}/" for p in ROOT.iterdir() if (p / "__init__.py").is_file()]
    missing = sorted(n for n in names if n not in layout.split())
    assert not missing, f"README's layout does not name {missing}"
