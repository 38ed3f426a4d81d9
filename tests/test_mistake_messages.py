"""Everyday mistakes get exit 2 (or 3) and a message naming the flag and what to do,
before anything is sent when a setting alone shows it (issue 20 items 12-14)."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli, CliResult
from tests.test_output_paths import without_write_permission


def _file(path: Path, rows: list[str], header: str = "Phone,Name") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])


# -- issue 20 item 12: unknown target options ----------------------------------------


def test_an_unknown_option_flag_is_refused_before_any_request(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path, tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    result = cli(
        "sync",
        source,
        "--target",
        "arnis",
        "--base-url",
        sandbox.url,
        "--option",
        "list_idz=1",
        "--state-dir",
        tmp_path / "state",
    )
    assert result.exit_code == 2
    assert "unknown option 'list_idz' for arnis" in result.stderr
    assert "[options]); arnis's options: batch_size, max_remote_contacts, page_size" in (
        result.stderr
    )
    assert sandbox.store.requests == []


def test_validate_of_a_job_file_refuses_its_unknown_options(
    cli: Cli, source: Path, tmp_path: Path
) -> None:
    """``validate --config job.toml``, the dry run of a job, passes only what ``sync`` runs."""
    job = tmp_path / "job.toml"
    job.write_text('target = "dmchamp"\n[options]\ndefault_nam = "Friend"\n', encoding="utf-8")
    result = cli("validate", source, "--config", job)
    assert result.exit_code == 2
    assert "unknown option 'default_nam' for dmchamp" in result.stderr
    assert "did you mean 'default_name'?" in result.stderr
    job.write_text('target = "dmchamp"\n[options]\ndefault_name = "Friend"\n', encoding="utf-8")
    assert cli("validate", source, "--config", job).exit_code == 0


def test_an_unknown_option_in_a_job_file_says_did_you_mean(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path, tmp_path: Path
) -> None:
    sandbox = sandbox_factory("consuelo")
    job = tmp_path / "job.toml"
    job.write_text(
        f'target = "consuelo"\nbase_url = "{sandbox.url}"\n[options]\nworkspace_idd = "ws_1"\n',
        encoding="utf-8",
    )
    result = cli("plan", source, "--config", job)
    assert result.exit_code == 2
    assert "unknown option 'workspace_idd' for consuelo" in result.stderr
    assert "did you mean 'workspace_id'?" in result.stderr
    assert (
        "consuelo's options: dnc_reason, max_remote_contacts, page_size, workspace_id"
        in result.stderr
    )
    assert sandbox.store.requests == []


# -- issue 20 item 13: --default-region --------------------------------------------------


def test_an_unknown_region_code_is_refused(cli: Cli, source: Path, tmp_path: Path) -> None:
    result = cli("validate", source, "--default-region", "XX")
    assert result.exit_code == 2
    assert "--default-region 'XX' is not a country code" in result.stderr
    job = tmp_path / "job.toml"
    job.write_text('default_region = "ZZ"\n', encoding="utf-8")
    assert cli("validate", source, "--config", job).exit_code == 2
    assert cli("validate", source, "--default-region", "gb").exit_code == 0


def test_an_unknown_region_code_stops_plan_and_sync_before_any_request(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path, tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    for command in ("plan", "sync"):
        result = cli(
            command, source, "--target", "arnis", "--base-url", sandbox.url,
            "--default-region", "XX", "--state-dir", tmp_path / "state",
        )  # fmt: skip
        assert result.exit_code == 2
        assert "--default-region 'XX' is not a country code with a numbering plan" in result.stderr
        assert "like US, GB, DE or IN" in result.stderr
    assert sandbox.store.requests == []


# -- issue 20 item 14: --base-url --------------------------------------------------------


def test_a_base_url_without_scheme_is_exit_2_at_once(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    bare = sandbox.url.removeprefix("http://")
    result = cli("plan", source, "--target", "arnis", "--base-url", bare)
    assert result.exit_code == 2
    assert "--base-url must start with http:// or https://" in result.stderr
    assert sandbox.store.requests == []


@pytest.mark.parametrize("spaced", [" {url}", "{url} ", "\t{url}\n"], ids=["lead", "trail", "both"])
def test_a_base_url_with_spaces_around_it_is_the_url_meant(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    source: Path,
    tmp_path: Path,
    spaced: str,
) -> None:
    """Pasted with a space, or quoted so in a job file: not sent as part of the URL (a
    leading space was 4 s of retries, then 'UnsupportedProtocol'; a trailing one a 404)."""
    sandbox = sandbox_factory("arnis")
    url = spaced.format(url=sandbox.url)
    result = cli("plan", source, "--target", "arnis", "--base-url", url)
    assert result.exit_code == 0, result.stderr
    job = tmp_path / "job.toml"
    job.write_text(f'target = "arnis"\nbase_url = "{url.strip()} "\n', encoding="utf-8")
    assert cli("plan", source, "--config", job).exit_code == 0
    assert {r.path for r in sandbox.store.requests} == {"/api/v1/contacts"}


def test_a_base_url_with_a_query_is_refused_without_showing_it(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    result = cli("plan", source, "--target", "arnis", "--base-url", sandbox.url + "?token=s3cr3t")
    assert result.exit_code == 2
    assert "--base-url takes no query" in result.stderr
    assert "give only the API root" in result.stderr
    assert "s3cr3t" not in result.stderr
    assert sandbox.store.requests == []


def test_a_404_on_the_first_listing_names_the_url_and_the_sandbox_prefix(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    root = sandbox.url.removesuffix("/api/v1")
    result = cli("plan", source, "--target", "arnis", "--base-url", root)
    assert result.exit_code == 3
    assert f"GET {root}/contacts" in result.stderr
    assert "--base-url" in result.stderr
    assert f"--base-url {root}/api/v1" in result.stderr  # the sandbox's prefix


def test_connection_refused_names_host_port_and_flag_but_never_the_key(
    cli: Cli, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "dm+key/with=odd~chars"
    monkeypatch.setenv("DM_KEY", key)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = cli(  # retried for as long as the budget allows: a short one
        "plan",
        source,
        "--target",
        "dmchamp",
        "--base-url",
        url,
        "--api-key-env",
        "DM_KEY",
        "--retry-timeout",
        "1s",
    )
    assert result.exit_code == 3
    assert f"cannot connect to 127.0.0.1:{port}" in result.stderr
    assert f"--base-url ({url})" in result.stderr
    output = result.stdout + result.stderr
    for form in (key, quote(key, safe=""), quote_plus(key), "dm+key", "odd"):
        assert form not in output


# -- issue 20 item 18: a user's mistake is exit 2 naming the flag or file, never "unexpected"


def _sync(cli: Cli, sandbox: RunningSandbox, *args: str | Path) -> CliResult:
    return cli("sync", *args, "--target", "arnis", "--base-url", sandbox.url)


def _refused(result: CliResult, *words: str) -> None:
    assert result.exit_code == 2, result.stderr
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_settings_and_paths_a_run_cannot_use_are_refused_before_any_request(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path, tmp_path: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    before = source.read_bytes()
    folder = tmp_path / "folder"
    folder.mkdir()
    state = ("--state-dir", tmp_path / "state")
    for args, words in [
        ((source, "--chunk-size", "0", *state), ["--chunk-size must be at least 1"]),
        ((source, "--concurrency", "0", *state), ["--concurrency must be at least 1"]),
        ((folder, *state), [f"{folder}: is a directory; give the path of a CSV file"]),
        ((tmp_path / "nope.csv", *state), ["nope.csv: no such file"]),
        ((source, "--config", folder, *state), ["'--config'", "is a directory"]),
        ((source, "--config", tmp_path / "nope.toml"), ["job file", "nope.toml does not exist"]),
    ]:
        _refused(_sync(cli, sandbox, *args), *words)
    assert sandbox.store.requests == []
    assert source.read_bytes() == before


@pytest.mark.parametrize("command", ["plan", "sync"])
def test_a_file_that_is_no_contact_list_sends_nothing(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, command: str
) -> None:
    """The remote set is read while the file is checked, but only from the moment its
    header is mapped: an input error found on the way there is exit 2 with no request."""
    sandbox = sandbox_factory("arnis")
    (tmp_path / "empty.csv").write_bytes(b"")
    _file(tmp_path / "no-phone.csv", ["Ann,ann@example.com"], header="Name,Email")
    (tmp_path / "photo.csv").write_bytes(bytes(range(256)) * 8)
    good = _file(tmp_path / "in.csv", ["+1 415 555 2671,Ann"])
    for args, words in [
        ((tmp_path / "empty.csv",), ["the file is empty"]),
        ((tmp_path / "no-phone.csv",), ["no phone column found", "--map phone=COLUMN"]),
        ((tmp_path / "photo.csv",), ["does not look like a CSV text file"]),
        ((good, "--map", "phone=Mobile"), ["--map phone=Mobile: the file has no column"]),
        ((good, "--sheet", "2"), ["--sheet 2:", "drop --sheet"]),
    ]:
        result = cli(command, *args, "--target", "arnis", "--base-url", sandbox.url,
                     "--state-dir", tmp_path / "state")  # fmt: skip
        _refused(result, *words)
    assert sandbox.store.requests == []
    result = cli(command, good, "--target", "arnis", "--base-url", sandbox.url,
                 "--state-dir", tmp_path / "state")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sandbox.store.requests != []


def test_a_state_dir_that_is_a_file_is_refused_before_any_request(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], source: Path
) -> None:
    sandbox = sandbox_factory("arnis")
    before = source.read_bytes()
    for state_dir in (source, source / "deeper"):
        result = _sync(cli, sandbox, source, "--state-dir", state_dir)
        _refused(result, f"--state-dir {state_dir}: {source} is a file, not a directory")
        assert "give a directory (it is created when missing" in result.stderr
    assert sandbox.store.requests == []
    assert source.read_bytes() == before


def test_a_state_dir_without_write_permission_is_named(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    sandbox = sandbox_factory("arnis")
    with tempfile.TemporaryDirectory() as name:  # /tmp: reachable for nobody
        base = Path(name)
        base.chmod(0o755)
        source = _file(base / "in.csv", ["+1 415 555 2671,Ann"])
        source.chmod(0o644)
        locked = base / "locked"
        locked.mkdir()
        with without_write_permission(locked):
            result = _sync(cli, sandbox, source, "--state-dir", locked / "state")
        _refused(result, f"--state-dir {locked / 'state'}: no permission to write in {locked}")
        assert f"to create {locked / 'state'}" in result.stderr
    assert sandbox.store.requests == []


def test_a_job_file_that_is_no_text_says_what_config_takes(
    cli: Cli, source: Path, tmp_path: Path
) -> None:
    workbook = tmp_path / "contacts.xlsx"  # the contacts given to --config by mistake
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5\x8c\xff")
    result = cli("validate", source, "--config", workbook)
    _refused(result, f"job file {workbook} is not UTF-8 text: --config takes a TOML job file")
    assert "codec" not in result.stderr and "utf-8" not in result.stderr


def test_a_phone_preference_the_file_lacks_names_the_flag(
    cli: Cli, source: Path, tmp_path: Path
) -> None:
    result = cli("validate", source, "--phone-preference", "Mobile")
    _refused(result, "--phone-preference Mobile: the file has no column 'Mobile'")
    assert "its columns are: 'Phone', 'Name'" in result.stderr
    job = tmp_path / "job.toml"
    job.write_text('phone_preference = ["Phone", "Cell"]\n', encoding="utf-8")
    _refused(cli("validate", source, "--config", job), "--phone-preference Cell: the file")
