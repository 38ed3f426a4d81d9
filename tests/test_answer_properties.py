"""Any answer to any request (issue 21, "what must be shown"): random JSON or random bytes
in place of one answer of a run, for each target. The run never ends in an internal error
or a traceback, and no row is reported created or updated that the sandbox does not hold."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.sandbox import start
from pipeline.targets import target_class
from tests.conftest import API_KEY
from tests.tamper import tampered

TARGETS = ("arnis", "consuelo", "dmchamp", "oliai", "zexa")
EXTRA = {"consuelo": ["--option", "workspace_id=ws_1"], "oliai": ["--rate-limit", "0"]}
CONTACTS = "phone,first_name\n+14155550101,Ann\n+14155550102,Bob\n+14155550103,Cy\n"

_scalars = st.none() | st.booleans() | st.integers(-5, 10**12) | st.text(max_size=12)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "items", "data", "contacts", "total", "pages", "phone", "meta"])
            | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)
BODIES = _json.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=64)


@pytest.mark.parametrize("target", TARGETS)
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, which=st.integers(0, 5))
def test_any_answer_to_any_request_is_reported_truthfully(
    monkeypatch: pytest.MonkeyPatch, target: str, body: bytes, which: int
) -> None:
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", API_KEY)
    sandbox = start(target, API_KEY)
    seen: list[int] = []

    def rewrite(method: str, path: str, status: int, data: bytes) -> tuple[int, bytes] | None:
        seen.append(1)
        return (status, body) if len(seen) - 1 == which else None

    try:
        with tempfile.TemporaryDirectory() as tmp, tampered(sandbox.url, rewrite) as server:
            source = Path(tmp) / "contacts.csv"
            source.write_text(CONTACTS, encoding="utf-8")
            report = Path(tmp) / "report.csv"
            args = ["sync", str(source), "--target", target, "--base-url", server.url]
            args += ["--report", str(report), "--state-dir", str(Path(tmp) / "state")]
            result = CliRunner().invoke(main, args + EXTRA.get(target, []))
            rows = _rows(report)
    finally:
        sandbox.stop()
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 3), result.stderr
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    phone = target_class(target).description.fields.read["e164"]  # type: ignore[attr-defined]
    held = {c[phone] for c in sandbox.store.all()}
    for row in rows:
        if row["status"] in ("created", "updated"):
            assert row["e164"] in held, (row, result.stderr)


def _rows(report: Path) -> list[dict[str, Any]]:
    if not report.exists():
        return []
    with report.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))
