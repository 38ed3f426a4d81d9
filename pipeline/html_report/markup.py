"""The smaller parts of the HTML report: escaped cells and tables, counts in words, the
verdict line, the big numbers and the chart of the records by status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import polars as pl

from pipeline.html_report import style
from pipeline.html_report.style import COLOURS, STATUS_MEANING, STATUS_ORDER
from pipeline.report import OK_STATUSES
from pipeline.sanitize import clean

if TYPE_CHECKING:
    from pipeline.result import RunResult


def cell(value: Any) -> str:
    """A value as escaped text (no key, no control character: ``clean``); cut when it is
    very long."""
    if value is None:
        return ""
    text = clean(str(value))
    if len(text) > style.MAX_CELL_CHARS:
        text = text[: style.MAX_CELL_CHARS] + "…"
    return escape(text, quote=True)


def thousands(count: int) -> str:
    return f"{count:,}"


def pct(part: int, whole: int) -> str:
    if not whole:
        return "0%"
    share = 100 * part / whole
    if 0 < share < 1:
        return "<1%"
    return f"{share:.0f}%"


def plural(count: int, word: str) -> str:
    return f"{thousands(count)} {word}{'' if count == 1 else 's'}"


def anchor(code: str) -> str:
    return "err-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in code)


def by_status_order(counts: dict[str, int]) -> list[tuple[str, int]]:
    known = [(s, counts[s]) for s in STATUS_ORDER if counts.get(s)]
    other = sorted((s, n) for s, n in counts.items() if s not in STATUS_ORDER and n)
    return known + other


def rows_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], classes: Sequence[str]
) -> str:
    """A table of already-escaped cells; ``classes`` names each column's cells."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{c}">{v}</td>' for c, v in zip(classes, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def more_line(total: int, shown: int, what: str, where: str) -> str:
    if total <= shown:
        return ""
    return f'<p class="more">… and {thousands(total - shown)} more {what} ({where}).</p>'


# ---------------------------------------------------------------- header and verdict


def file_counts(result: RunResult) -> tuple[int, int, int]:
    """Records of the file that are fine, records that need attention, and remote contacts
    (not in the file) that need attention: kept because opted out, or a failed delete."""
    results = result.results
    problem = ~pl.col("status").is_in([*OK_STATUSES, "unchanged"])
    in_file = results.filter(pl.col("row").is_not_null())
    problems = in_file.filter(problem).height
    remote = results.filter(pl.col("row").is_null() & problem).height
    return in_file.height - problems, problems, remote


def verdict_line(result: RunResult) -> str:
    summary = result.summary
    ok, problems, remote = file_counts(result)
    records = plural(ok + problems, "record")
    done = {"validate": "checked", "plan": "planned", "sync": "synced"}.get(summary.command, "run")
    if summary.exit_code not in (0, 1):
        cls, head = "bad", f"The run did not finish (exit code {summary.exit_code})."
    elif problems:
        cls, head = "warn", f"Finished, but {thousands(problems)} of {records} need attention."
    elif remote:
        cls = "warn"
        head = (
            f"Every record of the file is fine; {plural(remote, 'remote contact')} need attention."
        )
    elif result.results.is_empty():
        cls, head = "ok", "The file holds no records: nothing to do."
    else:
        cls, head = "ok", f"All {records} {done} without a problem."
    detail = ""
    if summary.error_codes:
        codes = ", ".join(
            f'<a href="#{anchor(c)}"><code>{cell(c)}</code></a>&nbsp;{thousands(n)}'
            for c, n in list(summary.error_codes.items())[:4]
        )
        rest = len(summary.error_codes) - 4
        detail = f"<br>Most common: {codes}{f'; {rest} more below' if rest > 0 else ''}."
    return f'<div class="verdict {cls}" id="verdict"><strong>{head}</strong>{detail}</div>'


def meta_line(result: RunResult) -> str:
    summary = result.summary
    extra = summary.extra
    parts = [f"{plural(summary.records, 'record')}", f"{summary.seconds:.2f} s"]
    for key in ("target", "mode"):
        if extra.get(key):
            parts.append(f"{key} <b>{cell(extra[key])}</b>")
    if "requests_sent" in extra:
        parts.append(f"{plural(int(extra['requests_sent']), 'request')} sent")
    retry = extra.get("retry") or {}
    if retry.get("responses_429"):
        parts.append(f"{plural(int(retry['responses_429']), 'answer')} 429 (throttled)")
    if retry.get("retries"):
        retries = int(retry["retries"])
        parts.append(f"{thousands(retries)} {'retry' if retries == 1 else 'retries'}")
    if retry.get("waited_s"):
        parts.append(f"waited {float(retry['waited_s']):g} s on the API")
    parts.append(f"exit code {summary.exit_code}")
    return '<p class="meta">' + "".join(f"<span>{p}</span>" for p in parts) + "</p>"


def tiles_section(result: RunResult) -> str:
    summary = result.summary
    ok, problems, _ = file_counts(result)
    records = ok + problems
    tiles = [
        ("", thousands(records), "records in the file"),
        ("good", thousands(ok), f"fine ({pct(ok, records)})"),
        (
            "attn" if problems else "",
            thousands(problems),
            f"need attention ({pct(problems, records)})",
        ),
    ]
    deleted = summary.counts.get("deleted", 0) + summary.counts.get("delete", 0)
    if deleted:
        verb = "deleted" if summary.command == "sync" else "to delete"
        tiles.append(("del", thousands(deleted), f"remote contacts {verb}"))
    if summary.error_codes:
        tiles.append(("", thousands(len(summary.error_codes)), "distinct error codes"))
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile {c}"><b>{v}</b><small>{label}</small></div>' for c, v, label in tiles
        )
        + "</div>"
    )


# ---------------------------------------------------------------- the chart


def chart_section(counts: dict[str, int]) -> str:
    ordered = by_status_order(counts)
    total = sum(n for _, n in ordered)
    if not total:
        return '<p class="muted">No records.</p>'
    top = max(n for _, n in ordered)
    strip = "".join(
        f'<span style="flex:{n} 1 0;background:{COLOURS.get(s, "#555")}" '
        f'title="{cell(s)}: {n} ({pct(n, total)})"></span>'
        for s, n in ordered
    )
    rows = []
    for status, n in ordered:
        colour = COLOURS.get(status, "#555")
        width = 100 * n / top
        meaning = STATUS_MEANING.get(status, "")
        rows.append(
            f'<tr><td><span class="sw" style="background:{colour}"></span>{cell(status)}</td>'
            f'<td class="num" data-status="{cell(status)}">{thousands(n)}</td>'
            f'<td class="track"><span class="bar" style="width:{width:.2f}%;background:{colour}">'
            f"</span></td>"
            f'<td class="num muted">{pct(n, total)}</td><td class="muted">{cell(meaning)}</td></tr>'
        )
    return (
        f'<div class="strip" role="img" aria-label="records by status">{strip}</div>'
        f'<table class="chart" id="counts"><tbody>{"".join(rows)}</tbody></table>'
    )


# ---------------------------------------------------------------- names and rows


def display_name(frame: pl.DataFrame) -> pl.Expr:
    parts = [pl.col(c) for c in ("first_name", "last_name") if c in frame.columns]
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True) if parts else pl.lit(None)
    full = pl.col("name") if "name" in frame.columns else pl.lit(None, pl.String)
    name = pl.coalesce(full, pl.when(joined.str.len_chars() > 0).then(joined))
    return name.cast(pl.String).alias("_name")


def col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String).alias(name)


def row_label(row: Any) -> str:
    return '<span class="muted">remote</span>' if row is None else thousands(int(row))
