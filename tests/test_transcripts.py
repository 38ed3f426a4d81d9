"""The five targets send what they sent before (tests/fixtures/transcripts, recorded by
``python -m tests.transcript`` from the adapters as they were): per run of every sandbox
scenario the same requests (method, path, query, body, answer), the same report and exit
code; and ``contact-sync targets`` prints the same table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.transcript import FIXTURES, TARGETS, fixture, scenarios, targets_output


def _differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    found = []
    for scenario, runs in expected.items():
        for run, want in runs.items():
            got = actual.get(scenario, {}).get(run)
            if got is None:
                found.append(f"{scenario} / {run}: not run")
                continue
            for part in want:
                if got.get(part) != want[part]:
                    found.append(f"{scenario} / {run}: {part} differs")
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_target_sends_what_it_sent_before(target: str, tmp_path: Path) -> None:
    expected = json.loads(fixture(target).read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(scenarios(target, tmp_path)))
    assert _differences(expected, actual) == []
    assert actual == expected


def test_targets_command_prints_what_it_printed_before() -> None:
    assert targets_output() == (FIXTURES / "targets.txt").read_text(encoding="utf-8")
