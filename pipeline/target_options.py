"""The ``--option KEY=VALUE`` settings (``[options]`` in a job file) a target takes.

Each target declares the options it reads (``Capabilities.known_options``, required ones
included); any other name is a usage error with the closest known name and the list, so
a typo like ``workspace_idd`` never runs as if the option were not given.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

from pipeline.errors import UsageError


def check_options(target: str, known: Collection[str], options: Mapping[str, str]) -> None:
    """Refuse any of ``options`` that ``target`` does not take (``known``)."""
    for name in options:
        if name not in known:
            raise UsageError(_unknown_message(target, known, name))


def _unknown_message(target: str, known: Collection[str], name: str) -> str:
    where = f"unknown option {name!r} for {target} (--option {name}=... or {name} under [options])"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        where += f": did you mean {close[0]!r}?"
    listed = ", ".join(sorted(known))
    if listed:
        where += (" " if close else "; ") + f"{target}'s options: {listed}"
    else:
        where += f": {target} takes no options"
    owners = _other_targets_taking(target, name)
    if owners:
        where += f" ({name!r} is an option of {', '.join(owners)})"
    return where


def _other_targets_taking(target: str, name: str) -> list[str]:
    """The other built-in targets that take an option of this name."""
    from pipeline.targets import available_targets, target_class

    owners = []
    for other in available_targets():
        if other != target and name in target_class(other).capabilities.known_options:
            owners.append(other)
    return owners
