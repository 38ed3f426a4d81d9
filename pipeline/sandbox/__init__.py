"""Local emulators of the five target APIs, on one in-memory store.

``start(target, api_key)`` serves one on loopback and returns a ``RunningSandbox``
whose ``url`` is the ``--base-url`` to give contact-sync.
"""

from __future__ import annotations

import errno
import importlib
import os
import socket
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError
from pipeline.sandbox.server import Emulator, Faults, RunningSandbox, serve
from pipeline.sandbox.store import Store

#: target name → ("module:Class", base-URL path prefix, id style)
EMULATORS: dict[str, tuple[str, str, str]] = {
    "arnis": ("pipeline.sandbox.arnis:ArnisEmulator", "/api/v1", "uuid"),
    "consuelo": ("pipeline.sandbox.consuelo:ConsueloEmulator", "/v1", "counter"),
    "dmchamp": ("pipeline.sandbox.dmchamp:DmchampEmulator", "", "counter"),
    "oliai": ("pipeline.sandbox.oliai:OliaiEmulator", "/v1", "counter"),
    "zexa": ("pipeline.sandbox.zexa:ZexaEmulator", "/v1", "counter"),
}


def emulator_class(target: str) -> type[Emulator]:
    spec = EMULATORS.get(target)
    if spec is None:
        raise UsageError(f"no sandbox for target {target!r}: choose one of {', '.join(EMULATORS)}")
    module_name, class_name = spec[0].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"the {target} sandbox is not available in this build") from exc
    cls: type[Emulator] = getattr(module, class_name)
    return cls


def start(
    target: str,
    api_key: str,
    *,
    faults: Faults | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    store: Store | None = None,
    **options: Any,
) -> RunningSandbox:
    """Serve the ``target`` emulator on ``host:port`` (0: any free port)."""
    cls = emulator_class(target)
    _, prefix, id_style = EMULATORS[target]
    emulator = cls(store or Store(id_style=id_style), api_key, faults, **options)
    try:
        return serve(emulator, host, port, prefix)
    except OSError as exc:
        raise UsageError(_listen_problem(host, port, exc)) from exc


def _listen_problem(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use; pick another --port (0: any free port)"
    if exc.errno == errno.EACCES:
        return (
            f"port {port} needs privileges here; pick another --port above 1023 (0: any free port)"
        )
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host!r}: not an address of this machine; try --host 127.0.0.1"
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --host or --port"


def checked_db(path: Path) -> Path:
    """``--db PATH``, refused (exit 2) when the contacts could not be kept there at the end."""
    folder = path.absolute().parent
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise UsageError(f"--db {path}: the directory {folder} {what}; give a path in one")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.R_OK | os.W_OK)
    ):
        raise UsageError(
            f"--db {path}: no permission to read and write it here; give a path you can write to"
        )
    return path


def load_db(running: RunningSandbox, path: Path) -> None:
    """The contacts kept in ``path``; a file that is none stops the sandbox (exit 2)."""
    try:
        running.emulator.load(path)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # JSON, or its shape
        running.stop()
        raise UsageError(
            f"--db {path} is not a sandbox's contacts file (the JSON a sandbox keeps with "
            "--db): give another path, or move it away to start empty"
        ) from exc


__all__ = [
    "EMULATORS",
    "Faults",
    "RunningSandbox",
    "Store",
    "checked_db",
    "emulator_class",
    "load_db",
    "start",
]
