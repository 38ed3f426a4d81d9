"""The registry of targets: a built-in name, or the path of a description (``.toml``),
→ a ``Target`` class run by the engine (with the hooks its description names)."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.targets.base import Target
from pipeline.targets.engine import Engine, target_type
from pipeline.targets.model import Description, load

HERE = Path(__file__).resolve().parent
#: the built-in targets, each described in ``<name>.toml`` beside this module
REGISTRY: tuple[str, ...] = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
#: the hook methods a description may name (``quirks = "arnis"``): "module:Class"
QUIRKS: dict[str, str] = {
    "arnis": "pipeline.targets.arnis:Arnis",
    "dmchamp": "pipeline.targets.dmchamp:Dmchamp",
    "oliai": "pipeline.targets.oliai:Oliai",
}


def target_class(name: str) -> type[Target]:
    """The class for a built-in name or a description file (a path ending in ``.toml``);
    a UsageError lists the known targets, or says what is wrong with the file."""
    if name.endswith(".toml"):
        return _described(load(Path(name), tuple(QUIRKS)))
    if name not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise UsageError(
            f"unknown target {name!r}: choose one of {known}, or give a description file PATH.toml"
        )
    return _builtin(name)


def description_text(name: str) -> str:
    """A built-in description as the TOML text it is written in."""
    if name not in REGISTRY:
        raise UsageError(f"no built-in description {name!r}: choose one of {', '.join(REGISTRY)}")
    return (HERE / f"{name}.toml").read_text(encoding="utf-8")


def builtin_description(name: str) -> Description:
    return load(HERE / f"{name}.toml", tuple(QUIRKS))


def available_targets() -> list[str]:
    return list(REGISTRY)


@cache
def _builtin(name: str) -> type[Engine]:
    return _described(builtin_description(name))


def _described(description: Description) -> type[Engine]:
    base = _imported(QUIRKS[description.quirks]) if description.quirks else Engine
    return target_type(description, base)


def _imported(spec: str) -> type[Engine]:
    module_name, class_name = spec.split(":")
    cls: type[Engine] = getattr(importlib.import_module(module_name), class_name)
    return cls
