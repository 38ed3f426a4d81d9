"""The HTML report's "Numbers by type and time zone" section: the summary's counts by
number type and its most common time zones, each as a table of bars."""

from __future__ import annotations

import html

from pipeline.report import TOP_ZONES, Summary

_BAR = "#2f6fb0"


def _bars(table_id: str, key: str, counts: dict[str, int]) -> str:
    top = max(counts.values())
    total = sum(counts.values())
    rows = []
    for value, n in counts.items():
        text = html.escape(value, quote=True)
        rows.append(
            f"<tr><td>{text}</td>"
            f'<td class="num" data-{key}="{text}">{n:,}</td>'
            f'<td class="track"><span class="bar" style="width:{100 * n / top:.2f}%;'
            f'background:{_BAR}"></span></td>'
            f'<td class="num muted">{100 * n / total:.1f}%</td></tr>'
        )
    return f'<table class="chart" id="{table_id}"><tbody>{"".join(rows)}</tbody></table>'


def calling_section(summary: Summary) -> str:
    """The section, or nothing when the run worked out no number types."""
    if not summary.number_types:
        return ""
    parts = [
        '<h2 id="calling">Numbers by type and time zone</h2>',
        "<p class=muted>The type of each valid number (a premium-rate number costs money to "
        "call; a toll-free or fixed-line number takes no SMS).</p>",
        _bars("number-types", "type", summary.number_types),
    ]
    if summary.timezones:
        parts.append(
            f"<p class=muted>The {min(TOP_ZONES, len(summary.timezones))} most common time "
            "zones as sent (calling hours are local time).</p>"
        )
        parts.append(_bars("timezones", "zone", summary.timezones))
    return "".join(parts)
