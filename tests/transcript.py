"""What each target sends, per run, in the sandbox scenarios: the recorded transcripts.

A scenario is a few ``contact-sync`` runs (the real CLI, in-process) against one target's
sandbox. For every run the transcript keeps the exit code, the requests the sandbox was
sent (method, path, query, canonical JSON body and the status answered, as a sorted
multiset, since requests run concurrently) and the per-row report. Remote ids are
written as the number of the contact they name (``@+14155550100``), so that transcripts
do not depend on which request got which id. Runs with faults go with ``--concurrency 1``
so that the seeded faults hit the same requests every time.

``python -m tests.transcript`` writes the fixtures under ``tests/fixtures/transcripts``
from the code as it is; ``tests/test_transcripts.py`` checks the code against them.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.sandbox import Faults, RunningSandbox, start
from pipeline.sandbox.server import Reply, Request

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "transcripts"
KEY = "sk_test_TRANSCRIPT_0123456789"
TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
EXTRA = {"consuelo": ["--option", "workspace_id=ws_e2e"], "oliai": ["--rate-limit", "0"]}
#: report columns kept (all of them: the identity of behaviour is the whole report)
COLUMNS = ("row", "phone_input", "e164", "status", "remote_id", "error_code", "error_message")


class Recorder:
    """Wraps a sandbox's dispatch: every request, in canonical form, with its answer."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.sandbox = sandbox
        self.emulator = sandbox.emulator
        self.ids: dict[str, str] = {}  # every contact id ever stored → its number
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._dispatch = self.emulator.dispatch
        self.emulator.dispatch = self._record  # type: ignore[method-assign]

    def take(self) -> list[str]:
        with self._lock:
            taken, self.requests = sorted(self.requests), []
        return taken

    def token(self, value: str) -> str:
        return f"@{self.ids[value]}" if value in self.ids else value

    def _learn(self) -> None:
        store = self.emulator.store
        with store.lock:
            for contact_id, record in store.contacts.items():
                self.ids.setdefault(contact_id, self.emulator.e164_of(record))

    def _record(self, request: Request) -> tuple[Reply, bool]:
        with self._lock:
            self._learn()
            line = self._line(request)
        reply, drop = self._dispatch(request)
        with self._lock:
            self._learn()
            self.requests.append(f"{line} -> {'dropped' if drop else reply.status}")
        return reply, drop

    def _line(self, request: Request) -> str:
        path = "/".join(self.token(part) for part in request.path.split("/"))
        query = {k: ("<key>" if v == KEY else self.token(v)) for k, v in request.query.items()}
        text = f"{request.method} {path}"
        if query:
            text += "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()))
        if request.body is not None:
            text += " " + json.dumps(self._ids_in(request.body), sort_keys=True, ensure_ascii=False)
        return text

    def _ids_in(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.token(value)
        if isinstance(value, list):
            return [self._ids_in(v) for v in value]
        if isinstance(value, dict):
            return {k: self._ids_in(v) for k, v in value.items()}
        return value


@dataclass
class Scenario:
    """One target's sandbox and the runs made against it."""

    target: str
    tmp: Path
    faults: Faults | None = None
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sandbox = start(self.target, KEY, faults=self.faults)
        self.recorder = Recorder(self.sandbox)

    def sync(self, name: str, source: Path | None, *extra: str) -> None:
        """One ``contact-sync sync`` run, recorded as ``name``."""
        report = self.tmp / f"{name}.csv"
        args = ["sync", *([str(source)] if source else [])]
        args += ["--base-url", self.sandbox.url, "--report", str(report)]
        args += ["--state-dir", str(self.tmp / "state"), "--no-progress", *extra]
        if "--config" not in extra:
            args += ["--target", self.target, *EXTRA.get(self.target, [])]
        if self.faults is not None:
            args += ["--concurrency", "1"]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        if os.environ.get("TRANSCRIPT_DEBUG"):
            print(
                f"{self.target} {name}: exit {result.exit_code}\n{result.stderr}", file=sys.stderr
            )
        self.runs[name] = {
            "exit": result.exit_code,
            "requests": self.recorder.take(),
            "report": self._report(report),
        }

    def _report(self, path: Path) -> list[str]:
        if not path.exists():
            return []
        with path.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.DictReader(handle))
        return [
            ",".join(self.recorder.token(line[c]) if c == "remote_id" else line[c] for c in COLUMNS)
            for line in lines
        ]

    def stop(self) -> None:
        self.sandbox.stop()


@contextmanager
def _environment(tmp: Path) -> Iterator[None]:
    keys = ["CONTACT_SYNC_API_KEY"] + [f"{t.upper()}_API_KEY" for t in TARGETS]
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict.fromkeys(keys, KEY))
    cwd = Path.cwd()
    os.chdir(ROOT)  # the sample jobs name their input relative to the repository root
    try:
        yield
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _variant(tmp: Path, name: str, source: Path, edit: Callable[[list[list[str]]], None]) -> Path:
    """A copy of a sample file, edited row by row (header first)."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    path = tmp / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _opt_out_edits(rows: list[list[str]]) -> None:
    """messy.csv with ten opt-outs added, three taken back and two names changed."""
    at = rows[0].index("Opted Out")
    name = rows[0].index("Full Name")
    added = taken_back = renamed = 0
    for row in rows[1:]:
        if len(row) <= at:
            continue
        flag = row[at].strip().lower()
        if flag == "no" and added < 10:
            row[at], added = "yes", added + 1
        elif flag == "yes" and taken_back < 3:
            row[at], taken_back = "no", taken_back + 1
        elif flag == "no" and renamed < 2 and row[name]:
            row[name], renamed = row[name] + " Jr", renamed + 1


def _lists_edits(rows: list[list[str]]) -> None:
    """contacts.csv with a Lists column: two lists, one list, none, by turns."""
    rows[0].append("Lists")
    choices = ("lst_a;lst_b", "lst_a", "")
    for i, row in enumerate(rows[1:]):
        row.append(choices[i % 3])


def _head(tmp: Path, source: Path, lines: int) -> Path:
    path = tmp / f"head{lines}-{source.name}"
    text = source.read_text(encoding="utf-8").splitlines(True)[: lines + 1]
    path.write_text("".join(text), encoding="utf-8")
    return path


def scenarios(target: str, tmp: Path) -> dict[str, dict[str, Any]]:
    """Every scenario of one target: scenario → run → exit, requests, report."""
    recorded: dict[str, dict[str, Any]] = {}
    stopping: list[threading.Thread] = []  # a server takes a while to stop: meanwhile, go on
    with _environment(tmp):
        try:
            for name, play, faults in _SCENARIOS:
                folder = tmp / name
                folder.mkdir(parents=True, exist_ok=True)
                scenario = Scenario(target, folder, faults)
                try:
                    play(scenario, folder)
                finally:
                    stopping.append(threading.Thread(target=scenario.stop))
                    stopping[-1].start()
                recorded[name] = scenario.runs
        finally:
            for thread in stopping:
                thread.join()
    return recorded


def _edits(s: Scenario, tmp: Path) -> None:
    s.sync("create", SAMPLES / "contacts.csv")
    s.sync("unchanged", SAMPLES / "contacts.csv")
    s.sync("update", SAMPLES / "contacts_edited.csv")
    s.sync("guard", _head(tmp, SAMPLES / "contacts.csv", 5), "--mode", "mirror")
    s.sync("mirror", SAMPLES / "contacts_edited.csv", "--mode", "mirror")
    s.sync("create-only", SAMPLES / "contacts.csv", "--mode", "create-only")
    s.sync("update-only", SAMPLES / "contacts.csv", "--mode", "update-only")


def _messy(s: Scenario, tmp: Path) -> None:
    s.sync("create", SAMPLES / "messy.csv")
    s.sync("unchanged", SAMPLES / "messy.csv")
    s.sync("opt-out", _variant(tmp, "opt-out-input.csv", SAMPLES / "messy.csv", _opt_out_edits))


def _lists(s: Scenario, tmp: Path) -> None:
    """lst_a exists on the target, lst_b does not (dmchamp's sandbox takes any list)."""
    s.sandbox.store.lists["lst_a"] = {"id": "lst_a", "name": "A", "contact_count": 0}
    s.sandbox.store.lists["lst_a"]["contactIds"] = []  # as oliai keeps an audience
    with_lists = _variant(tmp, "lists-input.csv", SAMPLES / "contacts.csv", _lists_edits)
    s.sync("create", with_lists)
    s.sync("unchanged", with_lists)


def _blind(s: Scenario, tmp: Path) -> None:
    s.sync("first five", _head(tmp, SAMPLES / "contacts.csv", 5))
    s.sync("blind", SAMPLES / "contacts.csv", "--mode", "create-only", "--skip-remote-read")


def _faulty(s: Scenario, tmp: Path) -> None:
    s.sync("faulty", SAMPLES / "contacts.csv")
    s.sync("faulty again", SAMPLES / "contacts_edited.csv")


def _faulty_chunks(s: Scenario, tmp: Path) -> None:
    s.sync("faulty", SAMPLES / "contacts.csv", "--chunk-size", "5")
    s.sync("faulty again", SAMPLES / "contacts_edited.csv", "--chunk-size", "5")


def _faulty_once(s: Scenario, tmp: Path) -> None:
    s.sync("faulty", _head(tmp, SAMPLES / "contacts.csv", 6), "--chunk-size", "2")


def _job(s: Scenario, tmp: Path) -> None:
    job = SAMPLES / "jobs" / f"{s.target}.toml"
    out = ["--summary-json", str(tmp / "s.json"), "--rejects", str(tmp / "r.csv")]
    s.sync("job", None, "--config", str(job), *out)
    s.runs["job"]["summary"] = _summary(tmp / "s.json")
    s.sync("job again", None, "--config", str(job), *out)
    s.runs["job again"]["summary"] = _summary(tmp / "s.json")


def _summary(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    summary.pop("seconds", None)
    # which files were written (where: a temporary folder, or a dated name)
    files = sorted(summary.pop("files", {}))
    kept = {k: v for k, v in summary.items() if not str(v).startswith(str(path.parent))}
    return {**kept, "files": files} if files else kept


_SCENARIOS: list[tuple[str, Callable[[Scenario, Path], None], Faults | None]] = [
    ("edits", _edits, None),
    ("messy", _messy, None),
    ("lists", _lists, None),
    ("blind", _blind, None),
    ("committed then failed", _faulty, Faults(seed=7, commit_then_fail_rate=0.3)),
    ("unavailable", _faulty, Faults(seed=11, transient_rate=0.15)),
    ("batches committed then failed", _faulty_chunks, Faults(seed=3, commit_then_fail_rate=0.5)),
    ("batches unavailable", _faulty_chunks, Faults(seed=5, transient_rate=0.3)),
    ("mostly unavailable", _faulty_once, Faults(seed=13, transient_rate=0.5)),
    ("jobs", _job, None),
]


def targets_output() -> str:
    result = CliRunner().invoke(main, ["targets"], catch_exceptions=False)
    return f"exit {result.exit_code}\n{result.stdout}"


def fixture(target: str) -> Path:
    return FIXTURES / f"{target}.json"


def dump(recorded: dict[str, Any]) -> str:
    return json.dumps(recorded, indent=1, ensure_ascii=False) + "\n"


def write(targets: tuple[str, ...] = TARGETS) -> None:
    import tempfile

    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / "targets.txt").write_text(targets_output(), encoding="utf-8")
    for target in targets:
        with tempfile.TemporaryDirectory() as tmp:
            fixture(target).write_text(dump(scenarios(target, Path(tmp))), encoding="utf-8")
        print(f"wrote {fixture(target)}", file=sys.stderr)


if __name__ == "__main__":
    write(tuple(sys.argv[1:]) or TARGETS)
