"""Every command the README shows is run, against a real sandbox of its target.

README.md's fenced ``sh`` blocks are read as shell sessions: ``export VAR=VALUE`` lines set
the session's environment (a placeholder value such as ``...`` stands for the key, so it
becomes the sandbox's key), ``contact-sync sandbox ...`` lines start a real sandbox in a
subprocess (``python -m pipeline sandbox ... --port 0``; its URL is the first line it
prints), and every other ``contact-sync ...`` line runs the real CLI with the example's
host and port (or https root) replaced by the sandbox's. Each session runs in a fresh
copy of ``sample_data`` so that ``out/`` and the state directory land in a temporary
directory. The cron and CI examples are run the same way.

An example's exit code is checked twice: against what its input implies (below, from
sample_data/README.md, not from the pipeline) and against what the README says in the
command's trailing comment (``# ... exit N``, and counts like ``25 created``).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import selectors
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.sandbox import EMULATORS, RunningSandbox, start

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
TARGETS = tuple(EMULATORS)
PLACEHOLDER_KEY = "sk_readme_0123456789abcdef"
#: exit code of a run over a sample file when every record is new or already in sync, from
#: sample_data/README.md: contacts.csv is 25 valid records; messy.csv has invalid and
#: duplicate records (exit 1). contacts_edited.csv depends on what the target already
#: holds, so the README must say.
IMPLIED_EXIT = {"contacts.csv": 0, "messy.csv": 1}
#: words of a README comment → the status they count in the per-row report
SUMMARY_WORDS = {
    "to create": "create",
    "to update": "update",
    "to delete": "delete",
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "skipped": "skipped",
    "deleted": "deleted",
    "invalid": "invalid",
    "duplicate": "duplicate",
}


# -- reading the README ---------------------------------------------------------------------


@dataclass
class Block:
    lang: str
    heading: str
    section: str  # the nearest "## " heading above it
    lines: list[str]


def blocks(text: str | None = None) -> list[Block]:
    text = README.read_text(encoding="utf-8") if text is None else text
    found: list[Block] = []
    heading = section = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            heading = line.lstrip("#").strip()
            if line.startswith("## "):
                section = heading
        if line.startswith("```"):
            lang = line[3:].strip()
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            found.append(Block(lang, heading, section, body))
        i += 1
    return found


def commands(lines: list[str]) -> list[str]:
    """The block's command lines, backslash continuations joined, blank and comment
    lines dropped (a trailing comment stays: it may state the exit code)."""
    joined: list[str] = []
    current = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            joined.append(" ".join(current.split()))
        current = ""
    return joined


def is_contact_sync(word: str) -> bool:
    return word == "contact-sync" or word.endswith("/contact-sync")


def comment_of(command: str) -> str:
    found = re.search(r"(?:^|\s)#(.*)$", command)
    return found.group(1) if found else ""


@dataclass
class Command:
    text: str
    env: dict[str, str]  # VAR=value prefixes
    args: list[str]  # after contact-sync
    background: bool

    @property
    def name(self) -> str:
        return self.args[0] if self.args else ""

    def option(self, flag: str) -> str | None:
        if flag in self.args:
            return self.args[self.args.index(flag) + 1]
        prefix = flag + "="
        return next((a[len(prefix) :] for a in self.args if a.startswith(prefix)), None)


def parse(text: str) -> Command | None:
    """A ``contact-sync ...`` command line (possibly after ``VAR=value`` prefixes), or None."""
    # a command substitution (the key read from a file) is one word: the key
    words = shlex.split(re.sub(r"\$\([^)]*\)", "$KEY", text), comments=True)
    background = bool(words) and words[-1] == "&"
    words = words[:-1] if background else words
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or not is_contact_sync(words[0]):
        return None
    return Command(text, env, words[1:], background)


def sh_sessions() -> list[Block]:
    return [b for b in blocks() if b.lang == "sh" and any(parse(c) for c in commands(b.lines))]


# -- running a session ------------------------------------------------------------------------


def is_placeholder(value: str) -> bool:
    return value in ("", "...", "…") or value.startswith("$") or value.startswith("<")


@dataclass
class Sandbox:
    target: str
    url: str  # as printed / as started, with the target's prefix
    key: str
    process: subprocess.Popen[str] | None = None
    running: RunningSandbox | None = None

    @property
    def root(self) -> str:
        prefix = EMULATORS[self.target][1]
        return self.url[: len(self.url) - len(prefix)] if prefix else self.url


@dataclass
class Session:
    work: Path
    env: dict[str, str] = field(default_factory=dict)
    #: sandboxes a README line started, by the port the README gave it
    by_port: dict[str, Sandbox] = field(default_factory=dict)
    #: sandboxes started for examples that name a real https URL, by target
    by_target: dict[str, Sandbox] = field(default_factory=dict)

    def close(self) -> None:
        for sandbox in [*self.by_port.values(), *self.by_target.values()]:
            if sandbox.process is not None:
                sandbox.process.terminate()
                try:
                    sandbox.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    sandbox.process.kill()
                    sandbox.process.wait()
                if sandbox.process.stdout is not None:
                    sandbox.process.stdout.close()
            if sandbox.running is not None:
                sandbox.running.stop()

    # -- sandbox lines ------------------------------------------------------------------------
    def start_sandbox(self, command: Command) -> Sandbox:
        target = command.option("--target")
        assert target in TARGETS, command.text
        port = command.option("--port") or "0"
        key = command.option("--api-key") or self.env.get("CONTACT_SYNC_API_KEY") or "sandbox-key"
        args = list(command.args)
        if "--port" in args:
            args[args.index("--port") + 1] = "0"
        else:
            args += ["--port", "0"]
        env = {**os.environ, **self.env, **command.env}
        with (self.work / f"sandbox-{target}.err").open("w", encoding="utf-8") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", *args],
                cwd=self.work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=30)
        url = process.stdout.readline().strip() if ready else ""
        sandbox = Sandbox(target, url, key, process=process)
        self.by_port[port] = sandbox
        errors = (self.work / f"sandbox-{target}.err").read_text(encoding="utf-8")
        assert url, f"{command.text}: the sandbox printed no URL\n{errors}"
        assert process.poll() is None, f"{command.text}: the sandbox exited\n{errors}"
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1", url
        assert parts.path == EMULATORS[target][1], (url, EMULATORS[target][1])
        return sandbox

    # -- every other line ---------------------------------------------------------------------
    def job_file(self, command: Command) -> dict[str, object]:
        config = command.option("--config")
        if not config:
            return {}
        with (self.work / config).open("rb") as handle:
            return tomllib.load(handle)

    def key_variable(self, command: Command) -> str:
        return str(
            command.option("--api-key-env")
            or self.job_file(command).get("api_key_env")
            or "CONTACT_SYNC_API_KEY"
        )

    def sandbox_for(self, command: Command, url: str) -> Sandbox:
        """The sandbox an example's URL means; started here for a real https root."""
        parts = urlsplit(url)
        target = command.option("--target") or str(self.job_file(command).get("target", ""))
        if parts.hostname in ("127.0.0.1", "localhost"):
            sandbox = self.by_port.get(str(parts.port))
            assert sandbox is not None, f"{command.text}: no sandbox on port {parts.port}"
            return sandbox
        assert target in TARGETS, command.text
        if target not in self.by_target:
            variable = self.key_variable(command)
            value = {**self.env, **command.env}.get(variable, "")
            key = PLACEHOLDER_KEY if is_placeholder(value) else value
            running = start(target, key)
            self.by_target[target] = Sandbox(target, running.url, key, running=running)
        return self.by_target[target]

    def rewrite(self, command: Command, url: str) -> str:
        """The example's URL on the sandbox: same path, the sandbox's scheme, host, port."""
        sandbox = self.sandbox_for(command, url)
        path = urlsplit(url).path.rstrip("/")
        assert path == EMULATORS[sandbox.target][1], (
            f"{command.text}: the {sandbox.target} API root ends in "
            f"{EMULATORS[sandbox.target][1]!r}, not {path!r}"
        )
        return sandbox.root + path

    def run(self, command: Command) -> tuple[int, str]:
        """The command in-process; ``> FILE`` at its end: its output written there."""
        args, into = list(command.args), None
        if ">" in args:
            args, into = args[: args.index(">")], args[args.index(">") + 1]
        url = command.option("--base-url")
        if url is not None:
            args[args.index("--base-url") + 1] = self.rewrite(command, url)
        env = {**self.env, **command.env}
        for name, value in list(env.items()):
            if is_placeholder(value):
                env[name] = self._key_for(command)
        result = CliRunner().invoke(main, args, env=env, catch_exceptions=True)
        if into is not None:
            (self.work / into).write_text(result.stdout, encoding="utf-8")
            return result.exit_code, result.stderr
        text = result.stderr + result.stdout
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{command.text}: raised {result.exception!r}\n{text}")
        return result.exit_code, text

    def report_of(self, command: Command) -> Path | None:
        """Where the command writes its per-row report: --report, else the job file's."""
        report = command.option("--report") or self.job_file(command).get("report")
        if not report:
            return None
        today = self.work / str(report).replace("{date}", dt.date.today().isoformat())
        yesterday = dt.date.today() - dt.timedelta(days=1)  # a run that crossed midnight
        earlier = self.work / str(report).replace("{date}", yesterday.isoformat())
        return earlier if not today.exists() and earlier.exists() else today

    def _key_for(self, command: Command) -> str:
        url = command.option("--base-url")
        if url is None:
            return PLACEHOLDER_KEY
        return self.sandbox_for(command, url).key


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    work = tmp_path / "work"
    shutil.copytree(REPO / "sample_data", work / "sample_data")
    monkeypatch.chdir(work)
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_KEY")):
            monkeypatch.delenv(name)
    opened = Session(work)
    yield opened
    opened.close()


def expected_exit(session: Session, command: Command) -> int | None:
    """What the README states for this command, checked against what its input implies."""
    stated = re.findall(r"\bexit (\d)\b", comment_of(command.text))
    if command.name in ("targets", "sandbox"):
        implied: int | None = 0
    else:
        positional = [a for a in command.args[1:2] if not a.startswith("-")]
        source = positional[0] if positional else str(session.job_file(command).get("input", ""))
        implied = IMPLIED_EXIT.get(Path(source).name)
    if stated:
        assert len(set(stated)) == 1, command.text
        if implied is not None:
            assert int(stated[0]) == implied, f"{command.text}: the README says exit {stated[0]}"
        return int(stated[0])
    return implied


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run_session(session: Session, lines: list[str]) -> list[tuple[Command, int, str]]:
    ran: list[tuple[Command, int, str]] = []
    for text in commands(lines):
        exported = re.fullmatch(r"export ([A-Za-z_][A-Za-z0-9_]*)=(\S*)(\s+#.*)?", text)
        if exported:
            session.env[exported.group(1)] = exported.group(2)
            continue
        if text.startswith("sed -i "):  # a file of the session edited (GNU sed)
            subprocess.run(shlex.split(text, comments=True), cwd=session.work, check=True)
            continue
        command = parse(text)
        if command is None:
            continue
        if command.name == "sandbox":
            session.start_sandbox(command)
            ran.append((command, 0, ""))
            continue
        before = session.report_of(command)
        if before is not None and before.exists():
            before.unlink()  # what is checked below is this run's report
        code, output = session.run(command)
        assert "Traceback" not in output, f"{text}\n{output}"
        expected = expected_exit(session, command)
        assert expected is not None, f"{text}: neither the README nor the input says the exit code"
        assert code == expected, f"{text}: exit {code}, expected {expected}\n{output}"
        report = session.report_of(command)
        if report is not None:
            assert report.is_file(), f"{text}: no report at {report}"
        stated = re.findall(rf"\b(\d+) ({'|'.join(SUMMARY_WORDS)})\b", comment_of(text))
        if stated:
            assert report is not None, f"{text}: counts stated, but no report to check them"
            counts = Counter(line["status"] for line in read_report(report))
            for count, words in stated:
                assert counts[SUMMARY_WORDS[words]] == int(count), f"{text}\n{counts}"
        ran.append((command, code, output))
    return ran


# -- the tests ---------------------------------------------------------------------------------


SESSIONS = sh_sessions()


@pytest.mark.parametrize(
    "block", SESSIONS, ids=[f"{i}-{b.heading or b.section}" for i, b in enumerate(SESSIONS)]
)
def test_sh_example_runs_as_documented(session: Session, block: Block) -> None:
    ran = run_session(session, block.lines)
    assert ran, "no contact-sync command found in the block"


def test_every_target_has_a_worked_example() -> None:
    worked = [b for b in blocks() if b.section.startswith("Worked examples") and b.lang == "sh"]
    for target in TARGETS:
        parsed = [c for b in worked if b.heading == target for c in map(parse, commands(b.lines))]
        lines = [c for c in parsed if c is not None]
        sandbox = [c for c in lines if c.name == "sandbox" and c.option("--target") == target]
        flags = [c for c in lines if c.name == "sync" and c.option("--target") == target]
        job = [c for c in lines if c.name == "sync" and c.option("--config")]
        assert sandbox and flags and job, target
        assert job[0].option("--config") == f"sample_data/jobs/{target}.toml"
        assert lines.index(sandbox[0]) < lines.index(flags[0])  # the sandbox comes first
        for command in flags + job:
            url = urlsplit(command.option("--base-url") or "")
            assert url.port == int(sandbox[0].option("--port") or 0), command.text
            assert url.path == EMULATORS[target][1], command.text
        if target == "consuelo":
            assert all("workspace_id=" in c.text for c in flags)


def test_readme_keeps_the_two_commands_from_a_fresh_clone() -> None:
    first = [b for b in blocks() if b.section == "Two commands from a fresh clone"]
    text = "\n".join(line for b in first for line in b.lines)
    assert "make demo" in text and "make test" in text


def test_cron_example_runs_quietly(session: Session) -> None:
    cron = [b for b in blocks() if b.lang == "cron"]
    assert len(cron) == 1
    toml = [b for b in blocks() if b.lang == "toml" and b.heading == cron[0].heading]
    assert len(toml) == 1, "the cron example's job file"
    job_text = "\n".join(toml[0].lines)
    job = tomllib.loads(job_text)
    schedule = commands(cron[0].lines)
    assert len(schedule) == 1
    shell = schedule[0].split(None, 5)[5]  # after the five time fields
    parts = [parse(part) for part in shell.split("&&")]
    runs = [p for p in parts if p is not None]
    assert len(runs) == 1, shell
    command = runs[0]
    config = command.option("--config")
    assert config
    # the job file pointed at a sandbox, and an export with the phone column it maps
    target = str(job["target"])
    running = start(target, PLACEHOLDER_KEY)
    sandbox = Sandbox(target, running.url, PLACEHOLDER_KEY, running=running)
    session.by_target[target] = sandbox
    url = urlsplit(str(job["base_url"]))
    assert url.path == EMULATORS[target][1], job["base_url"]
    (session.work / config).write_text(
        job_text.replace(str(job["base_url"]), sandbox.root + url.path), encoding="utf-8"
    )
    mapping = job.get("map", {})
    assert isinstance(mapping, dict)
    export = session.work / str(job["input"])
    export.parent.mkdir(parents=True, exist_ok=True)
    contacts = (REPO / "sample_data" / "contacts.csv").read_text(encoding="utf-8")
    export.write_text(contacts.replace("Phone", str(mapping.get("phone", "Phone")), 1), "utf-8")
    # the variable the cron line sets is the one the job file reads the key from
    assert str(job["api_key_env"]) in command.env, (command.env, job["api_key_env"])
    before = dt.date.today()
    code, output = session.run(command)
    after = dt.date.today()
    assert code == 0, output
    assert output == ""  # --quiet: nothing unless something is wrong
    assert len(running.store.contacts) == 25
    reports = {Path(str(job["report"]).replace("{date}", d.isoformat())) for d in (before, after)}
    assert any((session.work / r).is_file() for r in reports), "the dated report"


def test_ci_example_fails_the_step_on_bad_records(session: Session) -> None:
    ci = [b for b in blocks() if b.lang == "yaml"]
    assert len(ci) == 1
    parsed = [parse(line.split("run:", 1)[1]) for line in commands(ci[0].lines) if "run:" in line]
    runs = [command for command in parsed if command is not None]
    assert len(runs) == 1, ci[0].lines
    command = runs[0]
    source = command.args[1]
    summary = command.option("--summary-json")
    assert summary and command.option("--report")
    (session.work / source).parent.mkdir(parents=True, exist_ok=True)
    for sample, code in (("contacts.csv", 0), ("messy.csv", 1)):
        shutil.copy(REPO / "sample_data" / sample, session.work / source)
        got, output = session.run(command)
        assert got == code, output
        totals = (session.work / summary).read_text(encoding="utf-8")
        assert '"counts"' in totals and '"error_codes"' in totals
    assert '"invalid_phone"' in totals  # messy.csv, the last one, has invalid numbers
