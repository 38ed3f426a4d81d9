"""``--html-report``: the run as one self-contained HTML page (no network, no scripts).

What a person wants to see first: did it go well (a verdict line and a few big numbers),
the records by status as a bar chart (plain CSS: no script, no font, no image is loaded),
the plan's creates, updates and deletes (the numbers to be deleted listed in full up to a
cap), and the errors grouped by code with their rows (row, phone as read, name, message;
capped per code with an "and N more" line pointing at the per-row report).

Every value that came from the file or the target is escaped: the CSV is hostile. The page
also carries a Content-Security-Policy that forbids scripts and every external resource,
so a slip in escaping could not run anything or reach the network.

The page is put together here (``render``) from its sections (``sections``: the plan, the
errors, how the file was read), its smaller parts (``markup``: escaped cells, tables, the
verdict, the big numbers, the chart) and its look (``style``: colours, words, CSS).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.html_report.markup import (
    cell,
    chart_section,
    meta_line,
    plural,
    tiles_section,
    verdict_line,
)
from pipeline.html_report.sections import errors_section, input_section, plan_section
from pipeline.html_report.style import CSP, STYLE
from pipeline.staged import write_atomically

if TYPE_CHECKING:
    from pipeline.result import RunResult

__all__ = ["render", "write_html_report"]


def render(result: RunResult) -> str:
    summary = result.summary
    title = f"contact-sync {summary.command}: {plural(summary.records, 'record')}"
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{cell(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>contact-sync {cell(summary.command)}</h1>{meta_line(result)}"
        f"{verdict_line(result)}{tiles_section(result)}"
        f'<h2 id="status">Records by status</h2>{chart_section(summary.counts)}'
        f"{plan_section(result)}{errors_section(result)}"
        f"<h2>The input</h2>{input_section(result)}"
        f"<footer>Written by contact-sync {cell(summary.command)} on {cell(stamp)}. "
        "Self-contained: no scripts, nothing loaded from the network.</footer>"
        "</main></body></html>\n"
    )


def write_html_report(result: RunResult, path: Path) -> None:
    """The page, renamed into place once written whole."""
    write_atomically(path, render(result))
