"""The example job files in sample_data/jobs run as they are, and bad job files exit 2.

Every run is the real CLI (``contact-sync sync --config FILE``) against the target's own
sandbox, from a temporary copy of ``sample_data`` so that the files' relative paths
(``sample_data/...`` in, ``out/...`` out) stay inside the test's directory.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.sandbox import RunningSandbox
from tests.conftest import API_KEY, Cli, CliResult

REPO = Path(__file__).resolve().parent.parent
JOBS = REPO / "sample_data" / "jobs"
TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")

#: What a first sync of each sample input into an empty sandbox must end with, taken
#: from sample_data/README.md (written by sample_data/generate.py, not by the pipeline):
#: contacts.csv has 25 records, all valid; messy.csv has 244 records: 187 valid,
#: 32 invalid (13 invalid phone + 4 missing phone + 6 invalid e-mail + 4 unknown time
#: zone + 3 malformed language + 2 with two problems) and 25 duplicates (15 exact + 10
#: written differently). dmchamp stores opt-outs (do_not_disturb), so every valid
#: record of messy.csv is created.
EXPECTED: dict[str, tuple[int, dict[str, int]]] = {
    "arnis": (0, {"created": 25}),
    "consuelo": (0, {"created": 25}),
    "dmchamp": (1, {"created": 187, "invalid": 32, "duplicate": 25}),
    "oliai": (0, {"created": 25}),
    "zexa": (0, {"created": 25}),
}
CONTACTS_CSV_RECORDS = 25
MESSY_CSV_RECORDS = 244


def job(target: str) -> dict[str, object]:
    with (JOBS / f"{target}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a copy of sample_data (job files included), made current."""
    work = tmp_path / "work"
    shutil.copytree(REPO / "sample_data", work / "sample_data")
    monkeypatch.chdir(work)
    return work


def key_for(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the sandbox key in the variable the job file names (and nowhere else)."""
    monkeypatch.delenv("CONTACT_SYNC_API_KEY", raising=False)
    monkeypatch.setenv(str(job(target)["api_key_env"]), API_KEY)


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def dated(template: str, day: dt.date) -> Path:
    return Path(template.replace("{date}", day.isoformat()))


def output(result: CliResult) -> str:
    return result.stderr + result.stdout


# -- the sample job files ----------------------------------------------------------------


def test_there_is_one_job_file_per_target() -> None:
    assert sorted(p.name for p in JOBS.glob("*.toml")) == [f"{t}.toml" for t in TARGETS]


@pytest.mark.parametrize("target", TARGETS)
def test_job_file_holds_what_a_nightly_sync_needs(target: str) -> None:
    data = job(target)
    assert data["target"] == target
    assert (REPO / str(data["input"])).is_file()
    url = str(data["base_url"])
    assert url.startswith("https://") and "127.0.0.1" not in url and "localhost" not in url
    assert str(data["api_key_env"]).isidentifier()
    assert data["mode"] in ("upsert", "create-only", "update-only", "mirror")
    assert "max_invalid" in data
    if data["mode"] == "mirror":
        assert "max_deletes" in data
    if target == "consuelo":
        options = data["options"]
        assert isinstance(options, dict) and options.get("workspace_id")
    for name in ("report", "summary_json", "rejects"):
        value = str(data[name])
        assert value.startswith("out/") and "{date}" in value, (name, value)


def test_a_map_table_is_shown_in_at_least_one_job_file() -> None:
    assert any(isinstance(job(t).get("map"), dict) and job(t)["map"] for t in TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_every_key_of_a_job_file_is_commented(target: str) -> None:
    uncommented = [
        line
        for line in (JOBS / f"{target}.toml").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#") and "#" not in line
    ]
    assert uncommented == []


@pytest.mark.parametrize("target", TARGETS)
def test_job_file_syncs_into_its_sandbox(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
) -> None:
    key_for(target, monkeypatch)
    sandbox = sandbox_factory(target)
    before = dt.date.today()
    result = cli("sync", "--config", f"sample_data/jobs/{target}.toml", "--base-url", sandbox.url)
    after = dt.date.today()
    code, counts = EXPECTED[target]
    assert result.exit_code == code, output(result)
    assert "Traceback" not in output(result)

    data = job(target)
    # the report lands where the file says, {date} expanded to the day of the run
    reports = [p for p in {dated(str(data["report"]), d) for d in (before, after)} if p.exists()]
    assert len(reports) == 1, sorted(p.as_posix() for p in workdir.rglob("*") if p.is_file())
    report = workdir / reports[0]
    lines = read_report(report)
    records = MESSY_CSV_RECORDS if "messy" in str(data["input"]) else CONTACTS_CSV_RECORDS
    assert [int(line["row"]) for line in lines] == list(range(1, records + 1))
    assert Counter(line["status"] for line in lines) == counts
    assert len(sandbox.store.contacts) == counts["created"]
    day = reports[0].stem[: len("YYYY-MM-DD")]
    for name in ("summary_json", "rejects"):
        assert (workdir / dated(str(data[name]), dt.date.fromisoformat(day))).is_file(), name
    assert "{date}" not in "".join(p.as_posix() for p in workdir.rglob("*"))


def test_the_key_is_read_from_the_variable_the_file_names(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = sandbox_factory("zexa")
    # the default variable holds the key (the cli fixture sets it), ZEXA_API_KEY does not
    monkeypatch.delenv("ZEXA_API_KEY", raising=False)
    result = cli("sync", "--config", "sample_data/jobs/zexa.toml", "--base-url", sandbox.url)
    assert result.exit_code == 2, output(result)
    assert "ZEXA_API_KEY" in output(result)
    assert sandbox.store.requests == []


# -- flags on the command line win over the file ---------------------------------------------


def test_flags_win_over_the_file(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = sandbox_factory("arnis")
    monkeypatch.delenv("ARNIS_API_KEY", raising=False)
    monkeypatch.setenv("OTHER_KEY", API_KEY)
    config = ["--config", "sample_data/jobs/arnis.toml", "--base-url", sandbox.url]
    flags = ["--api-key-env", "OTHER_KEY", "--report", str(tmp_path / "r.csv")]
    # INPUT wins over `input`; the file's max_invalid = "5%" (12 of 244) then refuses
    # messy.csv's 32 invalid records before anything is sent
    result = cli("sync", "sample_data/messy.csv", *config, *flags)
    assert result.exit_code == 3, output(result)
    assert "--max-invalid" in output(result)
    assert sandbox.store.writes() == 0
    # --max-invalid wins over max_invalid
    result = cli("sync", "sample_data/messy.csv", *config, *flags, "--max-invalid", "15%")
    assert result.exit_code == 1, output(result)
    lines = read_report(tmp_path / "r.csv")  # --report wins over report
    assert len(lines) == MESSY_CSV_RECORDS
    assert Counter(line["status"] for line in lines) == {
        "created": 187,
        "invalid": 32,
        "duplicate": 25,
    }
    assert len(sandbox.store.contacts) == 187
    # the file's own report path was not written: the flag replaced it
    assert not (workdir / dated("out/arnis/{date}.csv", dt.date.today())).exists()


def test_report_flag_wins_over_the_files_report(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_for("zexa", monkeypatch)
    sandbox = sandbox_factory("zexa")
    mine = tmp_path / "mine.jsonl"
    result = cli(
        "sync",
        "--config",
        "sample_data/jobs/zexa.toml",
        "--base-url",
        sandbox.url,
        "--report",
        str(mine),
    )
    assert result.exit_code == 0, output(result)
    assert len(mine.read_text(encoding="utf-8").splitlines()) == CONTACTS_CSV_RECORDS
    written = {p.name for p in (workdir / "out" / "zexa").iterdir()}
    today = dt.date.today().isoformat()
    assert f"{today}.csv" not in written  # the file's report was not written
    assert f"{today}.json" in written  # its summary_json, not overridden, was


def test_options_from_the_command_line_merge_over_the_files(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_for("consuelo", monkeypatch)
    sandbox = sandbox_factory("consuelo")
    base = ["--config", "sample_data/jobs/consuelo.toml", "--base-url", sandbox.url]
    result = cli("sync", *base, "--option", "workspace_id=ws_from_flag")
    assert result.exit_code == 0, output(result)
    assert {c["workspaceId"] for c in sandbox.store.contacts.values()} == {"ws_from_flag"}


def test_mode_flag_wins_over_the_files_mirror(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_for("oliai", monkeypatch)
    sandbox = sandbox_factory("oliai")
    base = ["--config", "sample_data/jobs/oliai.toml", "--base-url", sandbox.url]
    assert cli("sync", *base).exit_code == 0
    assert len(sandbox.store.contacts) == CONTACTS_CSV_RECORDS
    fewer = tmp_path / "fewer.csv"  # contacts.csv without its last record
    fewer.write_text(
        "".join(
            (REPO / "sample_data" / "contacts.csv")
            .read_text(encoding="utf-8")
            .splitlines(True)[:-1]
        ),
        encoding="utf-8",
    )
    result = cli("sync", str(fewer), *base, "--mode", "upsert")
    assert result.exit_code == 0, output(result)
    assert len(sandbox.store.contacts) == CONTACTS_CSV_RECORDS  # upsert deletes nothing
    result = cli("sync", str(fewer), *base)  # the file's mode: mirror, 1 of 25 within 10%
    assert result.exit_code == 0, output(result)
    assert len(sandbox.store.contacts) == CONTACTS_CSV_RECORDS - 1


# -- bad job files: exit 2, saying where and what, nothing sent --------------------------------


def write(tmp_path: Path, text: str, name: str = "job.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(cli: Cli, sandbox: RunningSandbox, path: Path, *extra: str) -> str:
    result = cli(
        "sync",
        str(REPO / "sample_data" / "contacts.csv"),
        "--config",
        str(path),
        "--target",
        "arnis",
        "--base-url",
        sandbox.url,
        *extra,
    )
    text = output(result)
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    assert sandbox.store.requests == []  # nothing was sent, not even a read
    return text


@pytest.fixture
def arnis(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory("arnis")


def test_unknown_key_names_file_line_and_key(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    path = write(tmp_path, '# nightly\ntarget = "arnis"\n\nmax_delete = 5\n')
    text = refused(cli, arnis, path)
    assert f"{path}:4:" in text
    assert "'max_delete'" in text and "unknown key" in text
    assert "max_deletes" in text  # the key it probably meant


def test_unknown_table_names_its_line(cli: Cli, arnis: RunningSandbox, tmp_path: Path) -> None:
    path = write(tmp_path, 'target = "arnis"\n\n[option]\nworkspace_id = "ws"\n')
    text = refused(cli, arnis, path)
    assert f"{path}:3:" in text and "'option'" in text


@pytest.mark.parametrize(
    ("toml", "line", "key", "expected"),
    [
        ('target = "arnis"\n\nchunk_size = "big"\n', 3, "chunk_size", "a whole number"),
        ('target = "arnis"\nquiet = "yes"\n', 2, "quiet", "true or false"),
        ('target = "arnis"\nconcurrency = 2.5\n', 2, "concurrency", "a whole number"),
        ('target = "arnis"\nmax_deletes = true\n', 2, "max_deletes", "a string or a whole number"),
        ('target = "arnis"\nreport = 7\n', 2, "report", "a string"),
        ('target = "arnis"\n"options" = "ws_1"\n', 2, "options", "a table"),
        ('target = "arnis"\n[options]\n\nworkspace_id = [1]\n', 4, "workspace_id", "a string"),
        ('target = "arnis"\nphone_preference = "Mobile"\n', 2, "phone_preference", "a list"),
    ],
)
def test_wrong_type_names_file_line_key_and_expected_type(
    cli: Cli,
    arnis: RunningSandbox,
    tmp_path: Path,
    toml: str,
    line: int,
    key: str,
    expected: str,
) -> None:
    path = write(tmp_path, toml)
    text = refused(cli, arnis, path)
    assert f"{path}:{line}:" in text
    assert f"'{key}'" in text
    assert f"must be {expected}" in text


@pytest.mark.parametrize(
    ("toml", "line", "key"),
    [
        ('target = "arnis"\nmode = "mirorr"\n', 2, "mode"),
        ('target = "arnis"\n\nmax_invalid = "five"\n', 3, "max_invalid"),
        ('target = "arnis"\nchunk_size = 0\n', 2, "chunk_size"),
    ],
)
def test_bad_value_names_file_line_and_key(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path, toml: str, line: int, key: str
) -> None:
    path = write(tmp_path, toml)
    text = refused(cli, arnis, path)
    assert f"{path}:{line}:" in text and f"'{key}'" in text


@pytest.mark.parametrize(
    "toml",
    [
        'target = "arnis"\napi_key = "sk_live_in_a_file_0123"\n',
        'target = "arnis"\n[options]\napi_key = "sk_live_in_a_file_0123"\n',
        'target = "arnis"\noptions.token = "sk_live_in_a_file_0123"\n',
    ],
)
def test_a_key_in_the_file_is_refused_and_explained(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path, toml: str
) -> None:
    path = write(tmp_path, toml)
    text = refused(cli, arnis, path)
    assert str(path) in text
    assert "never goes in a file" in text and "api_key_env" in text
    assert "sk_live_in_a_file_0123" not in text


def test_a_key_as_an_option_flag_is_refused(cli: Cli, arnis: RunningSandbox) -> None:
    result = cli(
        "sync",
        str(REPO / "sample_data" / "contacts.csv"),
        "--target",
        "arnis",
        "--base-url",
        arnis.url,
        "--option",
        "api_key=sk_live_on_the_command_line",
    )
    assert result.exit_code == 2, output(result)
    assert "never given as a flag" in output(result)
    assert "sk_live_on_the_command_line" not in output(result)
    assert arnis.store.requests == []


def test_invalid_toml_exits_2_naming_the_line(
    cli: Cli, arnis: RunningSandbox, tmp_path: Path
) -> None:
    path = write(tmp_path, 'target = "arnis"\nmode = "upsert\n')
    text = refused(cli, arnis, path)
    assert f"{path}:2:" in text and "TOML" in text


def test_missing_job_file_exits_2(cli: Cli, arnis: RunningSandbox, tmp_path: Path) -> None:
    text = refused(cli, arnis, tmp_path / "nightly.toml")
    assert "nightly.toml" in text and "does not exist" in text


def test_date_is_fixed_once_per_run() -> None:
    settings = Settings(report="out/{date}.csv", rejects="x/{date}/r.csv", run_date="2031-01-02")
    assert settings.path("report") == Path("out/2031-01-02.csv")
    assert settings.path("rejects") == Path("x/2031-01-02/r.csv")
    assert Settings(report="r.csv").path("html_report") is None
