"""What the environment variable may hold, what --api-key-env may name, and the warning
for a key that would travel in clear: black-box through the CLI, against the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sandbox import RunningSandbox
from tests.conftest import API_KEY, Cli
from tests.hostile import hostile_server, key_forms_in

CONTACTS = "phone,first_name\n+14155550101,Ann\n+14155550102,Bob\n"


def _plan(cli: Cli, tmp: Path, url: str, *extra: str) -> tuple[int, str]:
    source = tmp / "contacts.csv"
    source.write_text(CONTACTS, encoding="utf-8")
    result = cli(
        "plan",
        source,
        "--target",
        "arnis",
        "--base-url",
        url,
        "--state-dir",
        tmp / "state",
        "--report",
        tmp / "out" / "plan.csv",
        *extra,
    )
    return result.exit_code, result.stderr + result.stdout


def _written(tmp: Path) -> str:
    """Every file the run wrote (its report and state)."""
    files = [p for d in ("out", "state") for p in (tmp / d).rglob("*") if p.is_file()]
    return "".join(p.read_text(errors="replace") for p in files)


def test_whitespace_around_the_key_is_stripped(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, monkeypatch
) -> None:
    arnis = sandbox_factory("arnis")
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", f"  \t{API_KEY}\r\n\n")
    code, out = _plan(cli, tmp_path, arnis.url)
    assert code == 0, out
    assert "warning" not in out  # http:// to this machine: nothing travels the network
    assert arnis.store.requests


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f"{API_KEY}\n# rotated 2024-05-01", "has more than one line"),
        (f"{API_KEY}\r\nsecond", "has more than one line"),
        (f"{API_KEY[:10]} {API_KEY[10:]}", "has whitespace inside it"),
        (f"{API_KEY[:10]}\u00a0{API_KEY[10:]}", "has whitespace inside it"),
        (f"{API_KEY[:10]}\x1b[2K{API_KEY[10:]}", "holds a control character"),
        (f"{API_KEY[:10]}\u200b{API_KEY[10:]}", "holds a control character"),
        (f"{API_KEY[:10]}é{API_KEY[10:]}", "holds a character that is not ASCII"),
        (f"{API_KEY[:10]}\u2013{API_KEY[10:]}", "holds a character that is not ASCII"),
        ("a", "is only 1 character long"),
        ("k3y-123", "is only 7 characters long; an API key has at least 8"),
    ],
)
def test_a_key_that_is_no_key_is_refused_without_showing_it(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    says: str,
) -> None:
    arnis = sandbox_factory("arnis")
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", value)
    code, out = _plan(cli, tmp_path, arnis.url)
    assert code == 2, out
    assert f"the API key in CONTACT_SYNC_API_KEY {says}" in out
    assert "(the value is not shown)" in out and "unexpected error" not in out
    for piece in (value, *value.split(), *value.splitlines()):
        if len(piece) >= 5:
            assert key_forms_in(out + _written(tmp_path), piece) == [], piece
    assert arnis.store.requests == []  # nothing sent


KEYS_AS_NAMES = [
    "sk_live_Ab+c/d=e~f.g-h_5150",  # not a name at all
    "sk_live_51HxYzAbCdEf0123",  # a name by its characters, but no variable's
    "AKIAIOSFODNN7EXAMPLE",  # upper case, one long run of letters and digits
]


@pytest.mark.parametrize("value", KEYS_AS_NAMES)
def test_a_key_given_for_the_variable_name_is_never_echoed(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, value: str
) -> None:
    arnis = sandbox_factory("arnis")
    code, out = _plan(cli, tmp_path, arnis.url, "--api-key-env", value)
    assert code == 2, out
    if "+" in value:
        assert "--api-key-env takes the NAME of a variable, not the key: put the key" in out
    else:  # it could name a variable: none is set, and the name is not shown
        assert "its name is not shown: it looks like a key" in out
    assert out.count("contact-sync:") == 1
    assert key_forms_in(out + _written(tmp_path), value) == []
    assert arnis.store.requests == []


@pytest.mark.parametrize("value", KEYS_AS_NAMES)
def test_a_key_given_for_the_variable_name_in_a_job_file_is_never_echoed(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path, value: str
) -> None:
    arnis = sandbox_factory("arnis")
    job = tmp_path / "job.toml"
    job.write_text(f'target = "arnis"\napi_key_env = "{value}"\n', encoding="utf-8")
    code, out = _plan(cli, tmp_path, arnis.url, "--config", job)
    assert code == 2, out
    if "+" in value:
        assert f"{job}:2: 'api_key_env' takes the NAME of an environment variable" in out
    assert key_forms_in(out + _written(tmp_path), value) == []
    assert arnis.store.requests == []


def test_a_variable_name_is_still_named_when_unset(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARNIS_API_KEY", raising=False)
    code, out = _plan(
        cli, tmp_path, "https://api.example.test/v1", "--api-key-env", "ARNIS_API_KEY"
    )
    assert code == 2, out
    assert "the environment variable ARNIS_API_KEY is empty or unset" in out


def test_plain_http_to_another_machine_warns_once(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no key: the run stops before anything is sent, after the warning
    monkeypatch.delenv("CONTACT_SYNC_API_KEY")
    code, out = _plan(cli, tmp_path, "http://198.51.100.7:8080/api/v1")
    assert code == 2, out
    assert out.count("warning") == 1
    assert "plain http:// to 198.51.100.7:8080, which is not this machine" in out
    assert "the API key travels in clear" in out
    code, out = _plan(cli, tmp_path, "https://198.51.100.7:8080/api/v1")
    assert code == 2 and "warning" not in out


def test_a_proxy_from_the_environment_sees_a_plain_http_key_and_is_warned_of(
    cli: Cli,
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arnis = sandbox_factory("arnis")
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with hostile_server(arnis.url, methods=frozenset()) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.removesuffix("/api/v1"))
        code, out = _plan(cli, tmp_path, "http://contacts.example.test/api/v1")
    assert code == 0, out
    assert out.count("warning") == 1
    assert "goes through the proxy from HTTP_PROXY or ALL_PROXY" in out
    assert "the proxy sees the API key in clear" in out
    assert proxy.forwarded[0].startswith("GET http://contacts.example.test/api/v1/contacts")
    assert key_forms_in(out + _written(tmp_path), API_KEY) == []


@pytest.mark.parametrize(
    ("no_proxy", "warned"),
    [("", True), ("127.0.0.1", False), ("localhost,127.0.0.1", False), ("*", False)],
)
def test_no_proxy_exempts_a_host_from_the_proxy_warning(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy: str, warned: bool
) -> None:
    # no key: the run stops before anything is sent, after the warning (or none)
    monkeypatch.delenv("CONTACT_SYNC_API_KEY")
    for name in ("no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    code, out = _plan(cli, tmp_path, "http://127.0.0.1:9/api/v1")
    assert code == 2, out
    assert ("the proxy sees the API key in clear" in out) is warned
