"""One vocabulary of outcomes (issue 15 item 4): every error code the tool can write is a
member of ``pipeline.outcomes.Code``, README's table lists exactly those codes, each has
a meaning for the HTML report, and no module spells a code as a bare string of its own."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from pipeline.outcomes import CODE_MEANING, Action, Code, Status

ROOT = Path(__file__).resolve().parent.parent
#: words that are codes and also something else in the source: a status ("failed"), a
#: report column ("number_type"), a strategy's name ("conflict"), a journal event
#: ("interrupted", "halted"); where they stand for a code they are Code members too
ALSO_OTHER_WORDS = {"failed", "number_type", "conflict", "interrupted", "halted"}


def _readme_codes() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| error code | meaning |", 1)[1].split("\n\n", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines()[2:] if line.startswith("|")]
    return {code for cell in first_cells for code in re.findall(r"`([a-z_]+)`", cell)}


def test_readme_lists_every_code_and_only_those() -> None:
    assert _readme_codes() == {c.value for c in Code}


def test_every_code_has_a_meaning_for_a_person() -> None:
    assert set(CODE_MEANING) == set(Code)
    assert all(text.strip() for text in CODE_MEANING.values())


#: the status words of interface.md (the report's ``status`` column), as written there
INTERFACE_STATUSES = {
    "sync": {
        "created",
        "updated",
        "unchanged",
        "deleted",
        "invalid",
        "duplicate",
        "failed",
        "skipped",
    },
    "plan": {"create", "update", "unchanged", "delete", "invalid", "duplicate", "skip"},
    "validate": {"valid", "invalid", "duplicate"},
}


def test_statuses_and_actions_are_the_interface_words() -> None:
    assert {s.value for s in Status} == INTERFACE_STATUSES["sync"] | INTERFACE_STATUSES["validate"]
    assert {a.value for a in Action} == INTERFACE_STATUSES["plan"]


def test_the_descriptions_name_only_known_codes() -> None:
    for path in sorted((ROOT / "pipeline" / "targets").glob("*.toml")):
        lists = tomllib.loads(path.read_text(encoding="utf-8")).get("lists", {})
        if "error_code" in lists:
            assert lists["error_code"] in set(Code), path.name


def test_no_module_spells_a_code_of_its_own() -> None:
    codes = {c.value for c in Code} - ALSO_OTHER_WORDS
    found = []
    sources = [*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")]
    for path in sources:
        relative = path.relative_to(ROOT).as_posix()
        if relative == "pipeline/outcomes.py" or relative.startswith("pipeline/sandbox/"):
            continue  # the vocabulary itself; the emulators speak the vendors' words
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in codes:
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert found == [], "use pipeline.outcomes.Code: " + ", ".join(found)
