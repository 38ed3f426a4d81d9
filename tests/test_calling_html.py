"""The HTML report's counts by number type and its top time zones, in a real browser
(Chromium, as tests/test_html_report.py: never skipped)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.test_html_report import SAMPLES, Node, chromium, console_problems, parse


def _figures(doc: Node, table_id: str, key: str) -> dict[str, int]:
    table = doc.find("table", id=table_id)
    return {
        td.attrs[f"data-{key}"]: int(td.text().replace(",", ""))
        for td in table.find_all("td")
        if f"data-{key}" in td.attrs
    }


def test_chromium_shows_the_counts_by_type_and_the_top_zones(cli: Cli, tmp_path: Path) -> None:
    page, summary = tmp_path / "messy.html", tmp_path / "s.json"
    result = cli(
        "validate", SAMPLES / "messy.csv", "--fill-timezone", "--quiet",
        "--html-report", page, "--summary-json", summary,
    )  # fmt: skip
    assert result.exit_code == 1
    figures = json.loads(summary.read_text())
    assert len(figures["number_types"]) >= 2 and figures["timezones"]

    done = chromium(page, tmp_path / "profile", "--dump-dom")
    assert console_problems(done.stderr) == []
    dom = parse(done.stdout)
    assert _figures(dom, "number-types", "type") == figures["number_types"]
    assert _figures(dom, "timezones", "zone") == figures["timezones"]
    assert dom.find("h2", id="calling").text() == "Numbers by type and time zone"
    assert dom.find_all("script") == []
