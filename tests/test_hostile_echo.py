"""A server that echoes the request (and so the key) and terminal control sequences into
its errors, in front of each real sandbox: no form of the key, and no control character
from it, reaches stdout, stderr or any file the run writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline import api
from pipeline.config import Settings
from pipeline.errors import TargetError
from pipeline.sandbox import start
from tests.conftest import Cli
from tests.hostile import EVERY, hostile_server, key_forms_in, written_texts

#: a key with every character query encoding changes (``+ / =``) and some it keeps
KEY = "sk_live_Ab+c/d=e~f.g-h_5150"
TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
EXTRA = {"consuelo": ["--option", "workspace_id=ws_1"], "oliai": ["--rate-limit", "0"]}
CONTACTS = "phone,first_name,last_name,email\n" + "".join(
    f"+1415555{n:04d},Ann{n},Lee,ann{n}@example.com\n" for n in range(1, 6)
)
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def _sync(
    cli: Cli, tmp: Path, target: str, url: str, report: str = "report.csv", *extra: str
) -> tuple:
    source = tmp / "contacts.csv"
    source.write_text(CONTACTS, encoding="utf-8")
    out = tmp / "out"
    result = cli(
        "sync",
        source,
        "--target",
        target,
        "--base-url",
        url,
        "--report",
        out / report,
        "--rejects",
        out / "rejects.csv",
        "--html-report",
        out / "report.html",
        "--summary-json",
        out / "summary.json",
        "--state-dir",
        out / "state",
        *EXTRA.get(target, []),
        *extra,
    )
    return result, out


def _assert_clean(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        assert key_forms_in(text, KEY) == [], f"a form of the key in {name}: {text[:2000]}"
        if name.endswith(".parquet"):
            continue  # binary: its bytes are no text to show (no key in it, above)
        raw = [c for c in RAW_CONTROLS if c in text]
        assert raw == [], f"raw control characters {raw!r} in {name}"


@pytest.mark.parametrize("report", ["report.csv", "report.jsonl"])
@pytest.mark.parametrize("target", TARGETS)
def test_an_echo_of_the_key_in_write_errors_reaches_no_output(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str, report: str
) -> None:
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", KEY)
    sandbox = start(target, KEY)
    try:
        with hostile_server(sandbox.url, status=400) as hostile:
            result, out = _sync(cli, tmp_path, target, hostile.url, report)
    finally:
        sandbox.stop()
    assert result.exit_code == 1, result.stderr
    assert hostile.echoed, "the writes were answered by the echo"
    texts = {"stdout": result.stdout, "stderr": result.stderr, **written_texts(out)}
    assert {"rejects.csv", "report.html", "summary.json", report} <= set(texts)
    _assert_clean(texts)
    # the server's message is there, its key masked and its control characters shown
    if report.endswith(".csv"):
        with (out / report).open(encoding="utf-8", newline="") as handle:
            messages = [line["error_message"] for line in csv.DictReader(handle)]
    else:
        lines = (out / report).read_text(encoding="utf-8").splitlines()
        messages = [json.loads(line)["error_message"] for line in lines]
    assert all("\\x1b]0;pwned\\x07\\x1b[2K\\r contact-sync: all 25" in m for m in messages)
    assert all("***" in m for m in messages)
    assert "\\x1b]0;pwned" in texts["rejects.csv"] and "\\x1b]0;pwned" in texts["report.html"]


@pytest.mark.parametrize("status", [400, 401])
@pytest.mark.parametrize("target", TARGETS)
def test_an_echo_of_the_key_in_read_errors_reaches_stderr_masked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str, status: int
) -> None:
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", KEY)
    sandbox = start(target, KEY)
    try:
        with hostile_server(sandbox.url, status=status, methods=EVERY) as hostile:
            result, out = _sync(cli, tmp_path, target, hostile.url)
    finally:
        sandbox.stop()
    assert hostile.echoed and not hostile.forwarded
    assert "\r" not in result.stderr
    _assert_clean({"stdout": result.stdout, "stderr": result.stderr, **written_texts(out)})
    if target == "dmchamp" and status == 400:
        # a lookup refused is the row's failure (dmchamp reads contact by contact)
        assert result.exit_code == 1, result.stderr
        assert "\\x1b]0;pwned\\x07" in (out / "report.csv").read_text(encoding="utf-8")
        return
    assert result.exit_code == 3, result.stderr
    assert f"HTTP {status}" in result.stderr
    assert "\\x1b]0;pwned\\x07" in result.stderr  # shown, escaped
    # one line, ours: nothing from the server starts a line of its own
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("contact-sync: ")


def test_an_echo_in_server_errors_is_masked_after_the_retries(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # dmchamp: the key rides in the query string, percent-encoded
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", KEY)
    sandbox = start("dmchamp", KEY)
    try:
        with hostile_server(sandbox.url, status=503, methods=EVERY) as hostile:
            # retried for as long as the budget allows: a short one
            retry = ("--retry-timeout", "2s")
            result, out = _sync(cli, tmp_path, "dmchamp", hostile.url, "report.csv", *retry)
    finally:
        sandbox.stop()
    assert result.exit_code == 3, result.stderr
    assert "unreachable after retries" in result.stderr and "HTTP 503" in result.stderr
    assert "apiKey=***" in result.stderr
    assert len(hostile.echoed) > 1  # retried
    _assert_clean({"stdout": result.stdout, "stderr": result.stderr, **written_texts(out)})


def test_a_key_cut_by_the_excerpt_of_a_body_leaves_no_part_of_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a plain-text body is cut to an excerpt of 300 characters: here inside the key
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", KEY)
    sandbox = start("arnis", KEY)
    try:
        with hostile_server(sandbox.url, status=422, methods=EVERY, pad=290) as hostile:
            result, out = _sync(cli, tmp_path, "arnis", hostile.url)
    finally:
        sandbox.stop()
    assert result.exit_code == 3, result.stderr
    assert hostile.echoed
    assert "x" * 290 + "***" in result.stderr
    for text in (result.stderr, *written_texts(out).values()):
        assert KEY[:10] not in text


def _oliai_bulk_answer(body: bytes, text: str) -> tuple[int, dict[str, object]]:
    """A 200 to oliai's bulk write: every other contact refused for ``text``, the others
    landed under an id made of ``text``."""
    contacts = json.loads(body)["contacts"]
    errors = [{"index": i, "reason": text} for i in range(0, len(contacts), 2)]
    landed = [
        {"id": f"c_{i}\x1b[2K{KEY}", "phoneNumber": c["phoneNumber"]}
        for i, c in enumerate(contacts)
        if i % 2
    ]
    return 200, {"created": len(landed), "updated": 0, "errors": errors, "contacts": landed}


def test_text_of_a_successful_answer_is_cleaned_in_every_file(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # oliai's bulk answer names the refused contacts with a reason and the landed ones
    # with their ids: text from outside that no error of the HTTP client carries
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", KEY)
    sandbox = start("oliai", KEY)
    try:
        with hostile_server(sandbox.url, reply=_oliai_bulk_answer) as hostile:
            result, out = _sync(cli, tmp_path, "oliai", hostile.url)
    finally:
        sandbox.stop()
    assert result.exit_code == 1, result.stderr
    assert hostile.echoed
    texts = {"stdout": result.stdout, "stderr": result.stderr, **written_texts(out)}
    _assert_clean(texts)
    with (out / "report.csv").open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["status"] for line in lines] == ["failed", "created"] * 2 + ["failed"]
    assert "\\x1b]0;pwned\\x07" in lines[0]["error_message"]
    assert lines[1]["remote_id"] == "c_1\\x1b[2K***"
    assert any("c_1" in text for name, text in texts.items() if "journal" in name)


@pytest.mark.parametrize("target", TARGETS)
def test_the_errors_the_python_api_raises_are_clean(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    # what an Airflow task logs: the exception itself
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", KEY)
    source = tmp_path / "contacts.csv"
    source.write_text(CONTACTS, encoding="utf-8")
    options = {"workspace_id": "ws_1"} if target == "consuelo" else {}
    sandbox = start(target, KEY)
    try:
        with hostile_server(sandbox.url, status=401, methods=EVERY) as hostile:
            settings = Settings(
                input=str(source),
                target=target,
                base_url=hostile.url,
                options=options,
                state_dir=str(tmp_path / "state"),
            )
            with pytest.raises(TargetError) as refused:
                api.plan(settings)
    finally:
        sandbox.stop()
    message = str(refused.value)
    assert "HTTP 401" in message and "\\x1b]0;pwned" in message
    _assert_clean({"exception": message, "detail": getattr(refused.value, "detail", "")})


def test_a_file_name_is_shown_escaped(cli: Cli, tmp_path: Path) -> None:
    name = tmp_path / "contacts\x1b]0;pwned\x07\r.csv"
    result = cli("validate", name)
    assert result.exit_code == 2, result.stderr
    assert "contacts\\x1b]0;pwned\\x07\\r.csv: no such file" in result.stderr
    _assert_clean({"stderr": result.stderr})
    assert "\r" not in result.stderr
