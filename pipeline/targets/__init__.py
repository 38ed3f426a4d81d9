"""The registry of targets: name → adapter class, imported on first use."""

from __future__ import annotations

import importlib

from pipeline.errors import UsageError
from pipeline.targets.base import Target

#: target name → "module:Class"
REGISTRY: dict[str, str] = {
    "arnis": "pipeline.targets.arnis:Arnis",
    "consuelo": "pipeline.targets.consuelo:Consuelo",
    "dmchamp": "pipeline.targets.dmchamp:Dmchamp",
    "oliai": "pipeline.targets.oliai:Oliai",
    "zexa": "pipeline.targets.zexa:Zexa",
}


def target_class(name: str) -> type[Target]:
    """The adapter class for ``name``, or a UsageError listing the known targets."""
    spec = REGISTRY.get(name)
    if spec is None:
        known = ", ".join(sorted(REGISTRY))
        raise UsageError(f"unknown target {name!r}: choose one of {known}")
    module_name, class_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"target {name!r} is not available in this build") from exc
    cls: type[Target] = getattr(module, class_name)
    return cls


def available_targets() -> list[str]:
    """The targets whose adapter module is present."""
    names = []
    for name in REGISTRY:
        try:
            target_class(name)
        except UsageError:
            continue
        names.append(name)
    return names
