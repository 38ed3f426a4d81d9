"""``--html-report``: the run as one self-contained HTML page (no network, no scripts).

What a person wants to see first: did it go well (a verdict line and a few big numbers),
the records by status as a bar chart (plain CSS: no script, no font, no image is loaded),
the plan's creates, updates and deletes (the numbers to be deleted listed in full up to a
cap), and the errors grouped by code with their rows (row, phone as read, name, message;
capped per code with an "and N more" line pointing at the per-row report).

Every value that came from the file or the target is escaped: the CSV is hostile. The page
also carries a Content-Security-Policy that forbids scripts and every external resource,
so a slip in escaping could not run anything or reach the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipeline.report import OK_STATUSES

if TYPE_CHECKING:
    from pipeline.api import RunResult

#: rows listed per error code, and per plan action (the rest: "and N more")
MAX_ROWS_SHOWN = 50
#: deletes are the irreversible part of a plan: more of them are listed
MAX_DELETES_SHOWN = 500
#: a cell longer than this is cut (a hostile file can hold megabyte cells)
MAX_CELL_CHARS = 160

# The order statuses are charted in: what went well first, then what needs attention.
_STATUS_ORDER = (
    "valid",
    "create",
    "created",
    "update",
    "updated",
    "unchanged",
    "delete",
    "deleted",
    "invalid",
    "duplicate",
    "skip",
    "skipped",
    "failed",
)
_COLOURS = {
    "valid": "#2e7d32",
    "create": "#2e7d32",
    "created": "#2e7d32",
    "update": "#1565c0",
    "updated": "#1565c0",
    "unchanged": "#90a4ae",
    "delete": "#6a1b9a",
    "deleted": "#6a1b9a",
    "invalid": "#c62828",
    "duplicate": "#ef6c00",
    "skip": "#f9a825",
    "skipped": "#f9a825",
    "failed": "#7f0000",
}
_STATUS_MEANING = {
    "valid": "passed every check",
    "create": "would be created",
    "created": "created on the target",
    "update": "would be updated",
    "updated": "updated on the target",
    "unchanged": "already up to date",
    "delete": "would be deleted (mirror mode)",
    "deleted": "deleted from the target (mirror mode)",
    "invalid": "held back: a field is invalid",
    "duplicate": "held back: number already earlier in the file",
    "skip": "would be skipped",
    "skipped": "skipped",
    "failed": "the target did not take it",
}
_CODE_MEANING = {
    "missing_phone": "The record has no phone number.",
    "invalid_phone": (
        "The phone cell is not a valid number. Numbers written without +country are read "
        "in --default-region (or the row's country column)."
    ),
    "invalid_email": "The email is not a valid address. The whole record is held back.",
    "invalid_timezone": "Not an IANA time zone name (e.g. America/New_York).",
    "invalid_language": "Not a BCP 47 language tag (e.g. en-US, hi-IN).",
    "invalid_opted_out": "The opted-out cell is not a yes/no value.",
    "duplicate_in_file": (
        "The same number (after normalization) is earlier in the file; the first valid record wins."
    ),
    "malformed_row": "The CSV record could not be read as a row of the table.",
    "bad_encoding": "The record holds bytes that are not valid in the file's encoding.",
    "conflict": "The target holds a contact that conflicts with this one.",
    "update_unsupported": "The contact differs on the target, which cannot update contacts.",
    "opted_out_remotely": (
        "Opted out on the target: kept, since deleting it would erase its suppression."
    ),
    "rejected": "The target refused the contact; its message follows.",
    "failed": "Gave up after retries; a rerun continues safely where this one stopped.",
}
_PLAN_ACTIONS = ("create", "update", "delete", "unchanged", "skip")

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_STYLE = """
:root{color-scheme:light;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 margin:0;color:var(--ink);background:#fff}
main{max-width:72rem;margin:0 auto;padding:1.5rem 2rem 3rem}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;
 padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:0;display:inline}
.meta{color:var(--muted);margin:0 0 1rem}.meta span+span::before{content:" · "}
.verdict{border-radius:6px;padding:.7rem 1rem;margin:0 0 1rem;border-left:6px solid}
.verdict.ok{background:#e8f5e9;border-color:#2e7d32}.verdict.warn{background:#fff4e5;border-color:#ef6c00}
.verdict.bad{background:#fdecea;border-color:#c62828}.verdict strong{font-size:1.05rem}
.tiles{display:flex;flex-wrap:wrap;gap:.75rem;margin:0 0 .5rem}
.tile{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:9rem;background:var(--soft)}
.tile b{display:block;font-size:1.6rem;line-height:1.2;font-variant-numeric:tabular-nums}
.tile small{color:var(--muted)}.tile.good b{color:#2e7d32}.tile.attn b{color:#c62828}
.tile.del b{color:#6a1b9a}
.strip{display:flex;height:14px;border-radius:4px;overflow:hidden;margin:.4rem 0 1rem;
 background:var(--soft)}
.strip span{min-width:2px}
table{border-collapse:collapse;margin:.4rem 0 .6rem}
td,th{border-bottom:1px solid var(--line);padding:.3rem .7rem;text-align:left;vertical-align:top;
 unicode-bidi:isolate;overflow-wrap:anywhere}
th{background:var(--soft);font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.chart td{border:0;padding:.2rem .6rem .2rem 0;vertical-align:middle}
.chart .track{width:28rem;background:var(--soft);border-radius:3px}
.chart .bar{display:block;height:16px;border-radius:3px;min-width:2px}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.4em;vertical-align:-.05em}
.muted{color:var(--muted)}
.rows{width:100%}.rows td.row{width:4rem}
.rows td.phone{white-space:nowrap}.rows td.name{min-width:9rem}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);
 padding:.05rem .3rem;border-radius:3px}
details{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;margin:.6rem 0}
summary{cursor:pointer}summary .count{font-weight:600}
.hint{color:var(--muted);margin:.3rem 0 0}
.more{color:var(--muted);font-style:italic;margin:.2rem 0}
.index{display:flex;flex-wrap:wrap;gap:.3rem 1.5rem;list-style:none;padding:0;margin:.4rem 0}
a{color:#0b57d0}
footer{color:var(--muted);margin-top:2.5rem;font-size:12px}
@media print{details{break-inside:avoid}main{padding:0}}
"""


def _text(value: Any) -> str:
    """A value as escaped text; cut when it is very long."""
    if value is None:
        return ""
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS] + "…"
    return escape(text, quote=True)


def _n(count: int) -> str:
    return f"{count:,}"


def _pct(part: int, whole: int) -> str:
    if not whole:
        return "0%"
    share = 100 * part / whole
    if 0 < share < 1:
        return "<1%"
    return f"{share:.0f}%"


def _plural(count: int, word: str) -> str:
    return f"{_n(count)} {word}{'' if count == 1 else 's'}"


def _anchor(code: str) -> str:
    return "err-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in code)


def _ordered(counts: dict[str, int]) -> list[tuple[str, int]]:
    known = [(s, counts[s]) for s in _STATUS_ORDER if counts.get(s)]
    other = sorted((s, n) for s, n in counts.items() if s not in _STATUS_ORDER and n)
    return known + other


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], classes: Sequence[str]) -> str:
    """A table of already-escaped cells; ``classes`` names each column's cells."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{c}">{v}</td>' for c, v in zip(classes, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _more(total: int, shown: int, what: str, where: str) -> str:
    if total <= shown:
        return ""
    return f'<p class="more">… and {_n(total - shown)} more {what} ({where}).</p>'


# ---------------------------------------------------------------- header and verdict


def _file_counts(result: RunResult) -> tuple[int, int, int]:
    """Records of the file that are fine, records that need attention, and remote contacts
    (not in the file) that need attention: kept because opted out, or a failed delete."""
    results = result.results
    problem = ~pl.col("status").is_in([*OK_STATUSES, "unchanged"])
    in_file = results.filter(pl.col("row").is_not_null())
    problems = in_file.filter(problem).height
    remote = results.filter(pl.col("row").is_null() & problem).height
    return in_file.height - problems, problems, remote


def _verdict(result: RunResult) -> str:
    summary = result.summary
    ok, problems, remote = _file_counts(result)
    records = _plural(ok + problems, "record")
    done = {"validate": "checked", "plan": "planned", "sync": "synced"}.get(summary.command, "run")
    if summary.exit_code not in (0, 1):
        cls, head = "bad", f"The run did not finish (exit code {summary.exit_code})."
    elif problems:
        cls, head = "warn", f"Finished, but {_n(problems)} of {records} need attention."
    elif remote:
        cls = "warn"
        head = (
            f"Every record of the file is fine; {_plural(remote, 'remote contact')} need attention."
        )
    elif result.results.is_empty():
        cls, head = "ok", "The file holds no records: nothing to do."
    else:
        cls, head = "ok", f"All {records} {done} without a problem."
    detail = ""
    if summary.error_codes:
        codes = ", ".join(
            f'<a href="#{_anchor(c)}"><code>{_text(c)}</code></a>&nbsp;{_n(n)}'
            for c, n in list(summary.error_codes.items())[:4]
        )
        rest = len(summary.error_codes) - 4
        detail = f"<br>Most common: {codes}{f'; {rest} more below' if rest > 0 else ''}."
    return f'<div class="verdict {cls}" id="verdict"><strong>{head}</strong>{detail}</div>'


def _meta(result: RunResult) -> str:
    summary = result.summary
    extra = summary.extra
    parts = [f"{_plural(summary.records, 'record')}", f"{summary.seconds:.2f} s"]
    for key in ("target", "mode"):
        if extra.get(key):
            parts.append(f"{key} <b>{_text(extra[key])}</b>")
    if "requests_sent" in extra:
        parts.append(f"{_plural(int(extra['requests_sent']), 'request')} sent")
    parts.append(f"exit code {summary.exit_code}")
    return '<p class="meta">' + "".join(f"<span>{p}</span>" for p in parts) + "</p>"


def _tiles(result: RunResult) -> str:
    summary = result.summary
    ok, problems, _ = _file_counts(result)
    records = ok + problems
    tiles = [
        ("", _n(records), "records in the file"),
        ("good", _n(ok), f"fine ({_pct(ok, records)})"),
        ("attn" if problems else "", _n(problems), f"need attention ({_pct(problems, records)})"),
    ]
    deleted = summary.counts.get("deleted", 0) + summary.counts.get("delete", 0)
    if deleted:
        verb = "deleted" if summary.command == "sync" else "to delete"
        tiles.append(("del", _n(deleted), f"remote contacts {verb}"))
    if summary.error_codes:
        tiles.append(("", _n(len(summary.error_codes)), "distinct error codes"))
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile {c}"><b>{v}</b><small>{label}</small></div>' for c, v, label in tiles
        )
        + "</div>"
    )


# ---------------------------------------------------------------- the chart


def _chart(counts: dict[str, int]) -> str:
    ordered = _ordered(counts)
    total = sum(n for _, n in ordered)
    if not total:
        return '<p class="muted">No records.</p>'
    top = max(n for _, n in ordered)
    strip = "".join(
        f'<span style="flex:{n} 1 0;background:{_COLOURS.get(s, "#555")}" '
        f'title="{_text(s)}: {n} ({_pct(n, total)})"></span>'
        for s, n in ordered
    )
    rows = []
    for status, n in ordered:
        colour = _COLOURS.get(status, "#555")
        width = 100 * n / top
        meaning = _STATUS_MEANING.get(status, "")
        rows.append(
            f'<tr><td><span class="sw" style="background:{colour}"></span>{_text(status)}</td>'
            f'<td class="num" data-status="{_text(status)}">{_n(n)}</td>'
            f'<td class="track"><span class="bar" style="width:{width:.2f}%;background:{colour}">'
            f"</span></td>"
            f'<td class="num muted">{_pct(n, total)}</td><td class="muted">{_text(meaning)}</td></tr>'
        )
    return (
        f'<div class="strip" role="img" aria-label="records by status">{strip}</div>'
        f'<table class="chart" id="counts"><tbody>{"".join(rows)}</tbody></table>'
    )


# ---------------------------------------------------------------- names and rows


def _display_name(frame: pl.DataFrame) -> pl.Expr:
    parts = [pl.col(c) for c in ("first_name", "last_name") if c in frame.columns]
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True) if parts else pl.lit(None)
    full = pl.col("name") if "name" in frame.columns else pl.lit(None, pl.String)
    name = pl.coalesce(full, pl.when(joined.str.len_chars() > 0).then(joined))
    return name.cast(pl.String).alias("_name")


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String).alias(name)


def _row_label(row: Any) -> str:
    return '<span class="muted">remote</span>' if row is None else _n(int(row))


# ---------------------------------------------------------------- the plan


def _outcomes(result: RunResult, rows: pl.DataFrame) -> list[str] | None:
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
        _text(by_row.get(r) if r is not None else by_remote.get(rid))
        for r, rid in rows.select("row", "remote_id").iter_rows()
    ]


_PLAN_TITLES = {"create": "To create", "update": "To update", "delete": "To delete"}


def _plan_rows(action: str, shown: pl.DataFrame) -> tuple[list[str], list[str], list[list[str]]]:
    """Headers, cell classes and escaped cells of the listed rows of one plan action."""
    if action == "delete":
        rows = [
            [f"<code>{_text(e)}</code>", _text(rid)]
            for e, rid in shown.select("e164", "remote_id").iter_rows()
        ]
        return ["number", "remote id"], ["e164", "rid"], rows
    headers = ["row", "phone as read", "number", "name"]
    classes = ["row num", "phone", "e164", "name"]
    cells = shown.select("row", "phone_input", "e164", "_name", "remote_id")
    rows = [
        [_row_label(r), _text(p), f"<code>{_text(e)}</code>" if e else "", _text(nm)]
        for r, p, e, nm, _ in cells.iter_rows()
    ]
    if action == "update":
        changes = shown.get_column("changes", default=None)
        changed = [", ".join(c or []) for c in changes.to_list()] if changes is not None else []
        rows = [
            [*row, _text(rid), _text(changed[i] if changed else "")]
            for i, (row, rid) in enumerate(zip(rows, cells["remote_id"].to_list(), strict=True))
        ]
        headers, classes = [*headers, "remote id", "fields changed"], [*classes, "rid", "changes"]
    return headers, classes, rows


def _plan_group(result: RunResult, plan: pl.DataFrame, action: str, cap: int) -> str:
    group = plan.filter(pl.col("action") == action)
    if group.is_empty():
        return ""
    shown = group.head(cap).with_columns(
        _col(group, "row"),
        _col(group, "phone_input"),
        _col(group, "remote_id").cast(pl.String),
        _display_name(group),
    )
    headers, classes, rows = _plan_rows(action, shown)
    outcomes = _outcomes(result, shown)
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
    more = _more(group.height, shown.height, f"to {action}", "see the per-row report")
    return (
        f'<details class="plan-{action}" id="plan-{action}"{is_open}><summary>'
        f'<h3>{_PLAN_TITLES[action]}</h3> <span class="count">{_n(group.height)}</span></summary>'
        f"{hint}{_table(headers, rows, classes)}{more}</details>"
    )


def _plan(result: RunResult) -> str:
    plan = result.plan
    if plan is None:
        return ""
    counts = dict(plan.group_by("action").len().iter_rows())
    when = (
        "what this run set out to do" if result.summary.command == "sync" else "nothing was written"
    )
    tiles = "".join(
        f'<div class="tile {"del" if a == "delete" and counts.get(a) else ""}" data-action="{a}">'
        f"<b>{_n(counts.get(a, 0))}</b><small>{a if a == 'unchanged' else 'to ' + a}</small></div>"
        for a in _PLAN_ACTIONS
    )
    groups = "".join(
        _plan_group(result, plan, a, MAX_DELETES_SHOWN if a == "delete" else MAX_ROWS_SHOWN)
        for a in ("delete", "create", "update")
    )
    return (
        f'<h2 id="plan">The plan <span class="muted">({when})</span></h2>'
        f'<div class="tiles" id="plan-counts">{tiles}</div>{groups}'
    )


# ---------------------------------------------------------------- errors


def _errors(result: RunResult) -> str:
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
        where = f"every one is in the per-row report, {_text(report)}"
    index = "".join(
        f'<li><a href="#{_anchor(str(c))}"><code>{_text(c)}</code></a> {_n(n)}</li>'
        for c, n in totals.iter_rows()
    )
    sections = []
    for code, total in totals.iter_rows():
        group = coded.filter(pl.col("error_code") == code).head(MAX_ROWS_SHOWN)
        shown = group.select(
            _col(group, "row"),
            _col(group, "phone_input"),
            _display_name(group),
            "error_message",
            _col(group, "e164"),
        )
        rows = [
            [_row_label(r), _text(p if p is not None else e), _text(nm), _text(m)]
            for r, p, nm, m, e in shown.iter_rows()
        ]
        meaning = _CODE_MEANING.get(str(code))
        hint = f'<p class="hint">{_text(meaning)}</p>' if meaning else ""
        table = _table(
            ["row", "phone as read", "name", "message"], rows, ["row num", "phone", "name", "msg"]
        )
        sections.append(
            f'<details open id="{_anchor(str(code))}" data-code="{_text(code)}">'
            f"<summary><h3><code>{_text(code)}</code></h3> "
            f'<span class="count">{_plural(total, "record")}</span></summary>{hint}{table}'
            f"{_more(total, shown.height, 'with this code', where)}</details>"
        )
    return f'<h2 id="errors">Errors by code</h2><ul class="index">{index}</ul>{"".join(sections)}'


# ---------------------------------------------------------------- how the file was read


def _input(result: RunResult) -> str:
    mapping = result.mapping
    table = result.table
    pairs = list(mapping.fields.items())
    pairs += [(f"metadata.{k}", c) for k, c in mapping.metadata.items()]
    rows = [
        [f"<code>{_text(f)}</code>", _text(c), "guessed" if f in mapping.guessed else ""]
        for f, c in pairs
    ]
    notes = []
    if mapping.guessed:
        notes.append("Guessed columns can be set with <code>--map FIELD=COLUMN</code>.")
    if len(mapping.phone_columns) > 1:
        order = ", ".join(_text(c) for c in mapping.phone_columns)
        notes.append(f"Phone columns, the first non-empty one wins: {order}.")
    used = set(mapping.fields.values()) | set(mapping.metadata.values())
    unused = [h for h in table.headers if h not in used and h not in mapping.phone_columns]
    if unused:
        listed = ", ".join(_text(h) for h in unused[:MAX_ROWS_SHOWN])
        rest = (
            f" and {_n(len(unused) - MAX_ROWS_SHOWN)} more" if len(unused) > MAX_ROWS_SHOWN else ""
        )
        notes.append(f"Columns not used: {listed}{rest}.")
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
        table.delimiter, repr(table.delimiter)
    )
    read_as = f"{table.encoding}, {delimiter}-separated" if table.format == "CSV" else table.format
    return (
        f'<details id="input"><summary><h3>How the file was read</h3> '
        f'<span class="muted">{_text(read_as)}, '
        f"{_plural(len(table.headers), 'column')}</span></summary>"
        f"{_table(['field', 'CSV column', ''], rows, ['field', 'column', 'muted'])}"
        f"{''.join(f'<p class=hint>{n}</p>' for n in notes)}</details>"
    )


# ---------------------------------------------------------------- the page


def render(result: RunResult) -> str:
    summary = result.summary
    title = f"contact-sync {summary.command}: {_plural(summary.records, 'record')}"
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>contact-sync {_text(summary.command)}</h1>{_meta(result)}"
        f"{_verdict(result)}{_tiles(result)}"
        f'<h2 id="status">Records by status</h2>{_chart(summary.counts)}'
        f"{_plan(result)}{_errors(result)}"
        f"<h2>The input</h2>{_input(result)}"
        f"<footer>Written by contact-sync {_text(summary.command)} on {_text(stamp)}. "
        "Self-contained: no scripts, nothing loaded from the network.</footer>"
        "</main></body></html>\n"
    )


def write_html_report(result: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
