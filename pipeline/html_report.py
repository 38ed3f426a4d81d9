"""``--html-report``: the run as one self-contained HTML page (no network, no scripts).

Counts by status as a bar chart, the errors grouped by code with their rows, and the
plan's creates, updates and deletes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from pipeline.api import RunResult

_COLOURS = {"created": "#2e7d32", "updated": "#1565c0", "unchanged": "#9e9e9e", "valid": "#2e7d32",
            "deleted": "#6a1b9a", "invalid": "#c62828", "duplicate": "#ef6c00", "failed": "#b71c1c",
            "skipped": "#f9a825", "create": "#2e7d32", "update": "#1565c0", "delete": "#6a1b9a",
            "skip": "#f9a825"}
_STYLE = """body{font:14px system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
h1{font-size:1.4rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
.bar{display:inline-block;height:1rem;vertical-align:middle}.n{text-align:right}
details{margin:.3rem 0}code{background:#f4f4f4;padding:0 .2rem}"""
_MAX_ROWS_SHOWN = 200


def _chart(counts: dict[str, int]) -> str:
    top = max(counts.values(), default=1) or 1
    rows = []
    for status, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        width = max(2, round(300 * n / top))
        colour = _COLOURS.get(status, "#555")
        bar = f'<span class="bar" style="width:{width}px;background:{colour}"></span>'
        rows.append(f'<tr><td>{escape(status)}</td><td class="n" data-status="{escape(status)}">{n}</td><td>{bar}</td></tr>')
    return "<table id=counts><tr><th>status</th><th>records</th><th></th></tr>" + "".join(rows) + "</table>"


def _errors(results: pl.DataFrame) -> str:
    coded = results.filter(pl.col("error_code").is_not_null())
    if coded.is_empty():
        return "<p>No errors.</p>"
    parts = []
    for (code,), group in coded.group_by("error_code", maintain_order=True):
        lines = "".join(
            f"<tr><td>{'' if r is None else r}</td><td>{escape(str(p or ''))}</td><td>{escape(str(m or ''))}</td></tr>"
            for r, p, m in group.head(_MAX_ROWS_SHOWN).select("row", "phone_input", "error_message").iter_rows()
        )
        more = f"<p>… and {group.height - _MAX_ROWS_SHOWN} more (see the report)</p>" if group.height > _MAX_ROWS_SHOWN else ""
        parts.append(
            f"<details open><summary><code>{escape(str(code))}</code>: {group.height} records</summary>"
            f"<table><tr><th>row</th><th>phone</th><th>message</th></tr>{lines}</table>{more}</details>"
        )
    return "".join(parts)


def _plan(plan: pl.DataFrame | None) -> str:
    if plan is None:
        return ""
    counts = dict(plan.group_by("action").len().iter_rows())
    items = "".join(f"<li>{escape(a)}: {counts.get(a, 0)}</li>" for a in ("create", "update", "delete", "unchanged", "skip"))
    return f"<h2>Plan</h2><ul id=plan>{items}</ul>"


def render(result: RunResult) -> str:
    summary = result.summary
    title = f"contact-sync {summary.command}: {summary.records} records"
    meta = ", ".join(f"{k}: {escape(str(v))}" for k, v in summary.extra.items() if k in ("target", "mode", "report"))
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>exit code {summary.exit_code} · {summary.seconds:.2f}s{' · ' + meta if meta else ''}</p>"
        f"<h2>Records by status</h2>{_chart(summary.counts)}{_plan(result.plan)}"
        f"<h2>Errors by code</h2>{_errors(result.results)}</body></html>"
    )


def write_html_report(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
