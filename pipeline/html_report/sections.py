"""The sections of the HTML report below the chart: the plan's creates, updates and
deletes, the errors grouped by code with their rows, and how the file was read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from pipeline.html_report import style
from pipeline.html_report.markup import (
    anchor,
    cell,
    col,
    display_name,
    more_line,
    plural,
    row_label,
    rows_table,
    thousands,
)
from pipeline.html_report.style import (
    CODE_MEANING,
    PLAN_ACTIONS,
)
from pipeline.read.encoding import described

if TYPE_CHECKING:
    from pipeline.result import RunResult


# ---------------------------------------------------------------- the plan


def outcomes_of(result: RunResult, rows: pl.DataFrame) -> list[str] | None:
    """For a sync: what became of each listed plan row (by row, or remote_id for remote ones)."""
    if result.summary.command != "sync" or "status" not in result.results.columns:
        return None
    results = result.results
    by_row = dict(
        results.filter(pl.col("row").is_in(rows["row"].drop_nulls().implode()))
        .select("row", "status")
        .iter_rows()
    )
    remote_ids = rows.filter(pl.col("row").is_null())["remote_id"].drop_nulls()
    by_remote: dict[Any, Any] = {}
    if remote_ids.len() and "remote_id" in results.columns:
        by_remote = dict(
            results.filter(
                pl.col("row").is_null() & pl.col("remote_id").is_in(remote_ids.implode())
            )
            .select("remote_id", "status")
            .iter_rows()
        )
    return [
        cell(by_row.get(r) if r is not None else by_remote.get(rid))
        for r, rid in rows.select("row", "remote_id").iter_rows()
    ]


PLAN_TITLES = {"create": "To create", "update": "To update", "delete": "To delete"}


def plan_rows(action: str, shown: pl.DataFrame) -> tuple[list[str], list[str], list[list[str]]]:
    """Headers, cell classes and escaped cells of the listed rows of one plan action."""
    if action == "delete":
        rows = [
            [f"<code>{cell(e)}</code>", cell(rid)]
            for e, rid in shown.select("e164", "remote_id").iter_rows()
        ]
        return ["number", "remote id"], ["e164", "rid"], rows
    headers = ["row", "phone as read", "number", "name"]
    classes = ["row num", "phone", "e164", "name"]
    cells = shown.select("row", "phone_input", "e164", "_name", "remote_id")
    rows = [
        [row_label(r), cell(p), f"<code>{cell(e)}</code>" if e else "", cell(nm)]
        for r, p, e, nm, _ in cells.iter_rows()
    ]
    if action == "update":
        changes = shown.get_column("changes", default=None)
        changed = [", ".join(c or []) for c in changes.to_list()] if changes is not None else []
        rows = [
            [*row, cell(rid), cell(changed[i] if changed else "")]
            for i, (row, rid) in enumerate(zip(rows, cells["remote_id"].to_list(), strict=True))
        ]
        headers, classes = [*headers, "remote id", "fields changed"], [*classes, "rid", "changes"]
    return headers, classes, rows


def plan_group(result: RunResult, plan: pl.DataFrame, action: str, cap: int) -> str:
    group = plan.filter(pl.col("action") == action)
    if group.is_empty():
        return ""
    shown = group.head(cap).with_columns(
        col(group, "row"),
        col(group, "phone_input"),
        col(group, "remote_id").cast(pl.String),
        display_name(group),
    )
    headers, classes, rows = plan_rows(action, shown)
    outcomes = outcomes_of(result, shown)
    if outcomes is not None:
        headers, classes = [*headers, "outcome"], [*classes, "outcome"]
        rows = [[*row, o] for row, o in zip(rows, outcomes, strict=True)]
    hint = ""
    if action == "delete":
        hint = (
            '<p class="hint">Remote contacts the file lacks (mirror mode). Opted-out ones are '
            "never deleted.</p>"
        )
    is_open = " open" if action == "delete" or group.height <= 20 else ""
    more = more_line(group.height, shown.height, f"to {action}", "see the per-row report")
    return (
        f'<details class="plan-{action}" id="plan-{action}"{is_open}><summary>'
        f'<h3>{PLAN_TITLES[action]}</h3> <span class="count">{thousands(group.height)}</span></summary>'
        f"{hint}{rows_table(headers, rows, classes)}{more}</details>"
    )


def plan_section(result: RunResult) -> str:
    plan = result.plan
    if plan is None:
        return ""
    counts = dict(plan.group_by("action").len().iter_rows())
    when = (
        "what this run set out to do" if result.summary.command == "sync" else "nothing was written"
    )
    tiles = "".join(
        f'<div class="tile {"del" if a == "delete" and counts.get(a) else ""}" data-action="{a}">'
        f"<b>{thousands(counts.get(a, 0))}</b><small>{a if a == 'unchanged' else 'to ' + a}</small></div>"
        for a in PLAN_ACTIONS
    )
    groups = "".join(
        plan_group(
            result, plan, a, style.MAX_DELETES_SHOWN if a == "delete" else style.MAX_ROWS_SHOWN
        )
        for a in ("delete", "create", "update")
    )
    return (
        f'<h2 id="plan">The plan <span class="muted">({when})</span></h2>'
        f'<div class="tiles" id="plan-counts">{tiles}</div>{groups}'
    )


# ---------------------------------------------------------------- errors


def errors_section(result: RunResult) -> str:
    results = result.results
    coded = results.filter(pl.col("error_code").is_not_null())
    if coded.is_empty():
        return '<h2 id="errors">Errors by code</h2><p id="no-errors">No errors: every record passed.</p>'
    totals = (
        coded.group_by("error_code", maintain_order=True)
        .len()
        .sort(["len", "error_code"], descending=[True, False])
    )
    where = "every one is in the per-row report (--report) and the rejects file (--rejects)"
    report = result.summary.extra.get("report")
    if report:
        where = f"every one is in the per-row report, {cell(report)}"
    index = "".join(
        f'<li><a href="#{anchor(str(c))}"><code>{cell(c)}</code></a> {thousands(n)}</li>'
        for c, n in totals.iter_rows()
    )
    sections = []
    for code, total in totals.iter_rows():
        group = coded.filter(pl.col("error_code") == code).head(style.MAX_ROWS_SHOWN)
        shown = group.select(
            col(group, "row"),
            col(group, "phone_input"),
            display_name(group),
            "error_message",
            col(group, "e164"),
        )
        rows = [
            [row_label(r), cell(p if p is not None else e), cell(nm), cell(m)]
            for r, p, nm, m, e in shown.iter_rows()
        ]
        meaning = CODE_MEANING.get(str(code))
        hint = f'<p class="hint">{cell(meaning)}</p>' if meaning else ""
        table = rows_table(
            ["row", "phone as read", "name", "message"], rows, ["row num", "phone", "name", "msg"]
        )
        sections.append(
            f'<details open id="{anchor(str(code))}" data-code="{cell(code)}">'
            f"<summary><h3><code>{cell(code)}</code></h3> "
            f'<span class="count">{plural(total, "record")}</span></summary>{hint}{table}'
            f"{more_line(total, shown.height, 'with this code', where)}</details>"
        )
    return f'<h2 id="errors">Errors by code</h2><ul class="index">{index}</ul>{"".join(sections)}'


# ---------------------------------------------------------------- how the file was read


def input_section(result: RunResult) -> str:
    mapping = result.mapping
    table = result.table
    pairs = list(mapping.fields.items())
    pairs += [(f"metadata.{k}", c) for k, c in mapping.metadata.items()]
    rows = [
        [f"<code>{cell(f)}</code>", cell(c), "guessed" if f in mapping.guessed else ""]
        for f, c in pairs
    ]
    notes = []
    if mapping.guessed:
        notes.append("Guessed columns can be set with <code>--map FIELD=COLUMN</code>.")
    if mapping.phone_reason and "phone" in mapping.fields:
        notes.append(f"Phone from {cell(mapping.fields['phone'])}: {cell(mapping.phone_reason)}.")
    if len(mapping.phone_columns) > 1:
        order = ", ".join(cell(c) for c in mapping.phone_columns)
        notes.append(
            f"Phone columns, {cell(mapping.phone_order)}; each row takes the first non-empty: "
            f"{order}."
        )
    if mapping.others:
        named = ", ".join(cell(c) for c in mapping.others)
        notes.append(
            f"Not the contact's phone, as they name another person: {named} "
            "(<code>--map phone=COLUMN</code> if one is the contact's)."
        )
    used = set(mapping.fields.values()) | set(mapping.metadata.values())
    unused = [h for h in table.headers if h not in used and h not in mapping.phone_columns]
    if unused:
        listed = ", ".join(cell(h) for h in unused[: style.MAX_ROWS_SHOWN])
        rest = (
            f" and {thousands(len(unused) - style.MAX_ROWS_SHOWN)} more"
            if len(unused) > style.MAX_ROWS_SHOWN
            else ""
        )
        notes.append(f"Columns not used: {listed}{rest}.")
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
        table.delimiter, repr(table.delimiter)
    )
    notes += [cell(n) for n in table.notes]
    if table.blank_rows:
        notes.append(f"{plural(table.blank_rows, 'blank row')} (every cell empty) skipped.")
    read_as = (
        f"{described(table.encoding)}, {delimiter}-separated"
        if table.format == "CSV"
        else table.format
    )
    return (
        f'<details id="input"><summary><h3>How the file was read</h3> '
        f'<span class="muted">{cell(read_as)}, '
        f"{plural(len(table.headers), 'column')}</span></summary>"
        f"{rows_table(['field', 'CSV column', ''], rows, ['field', 'column', 'muted'])}"
        f"{''.join(f'<p class=hint>{n}</p>' for n in notes)}</details>"
    )
