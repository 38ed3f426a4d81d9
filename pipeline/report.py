"""Everything the tool writes about a run: the per-row report, the rejects file, the
summary JSON and the short human summary. Every cell that a spreadsheet would run as a
formula is neutralised with a leading ``'`` (plain numbers and phone numbers excepted).
Text that may have come from outside (the report's cells, the rejects file's error
columns, the summary) holds no form of the API key and no control character
(``pipeline.sanitize``); the rejects file's own cells stay exactly as read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.sanitize import clean_expr
from pipeline.secrets import redact
from pipeline.staged import StagedFile, write_atomically

REPORT_COLUMNS = (
    "row",
    "phone_input",
    "e164",
    "status",
    "remote_id",
    "error_code",
    "error_message",
    "number_type",
    "timezone",
    "timezone_source",
)
OK_STATUSES = frozenset(
    {"valid", "created", "updated", "unchanged", "deleted", "create", "update", "delete"}
)
REJECT_STATUSES = ("invalid", "duplicate", "failed", "skipped", "skip")
_FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = r"^[0-9 +\-().]*$"
_PLAN_STATUS = {"skip": "skip"}


def neutralise(column: pl.Expr) -> pl.Expr:
    """A cell starting like a formula gets a leading ``'`` unless it is a plain number."""
    text = column.cast(pl.String)
    risky = text.str.contains(r"^[=+\-@\t\r]") & ~text.str.contains(_PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text)


def neutralise_text(cell: str) -> str:
    """``neutralise`` for one cell of text (the rejects file's header)."""
    risky = re.match(r"[=+\-@\t\r]", cell) and not re.match(_PLAIN_NUMBER, cell)
    return "'" + cell if risky else cell


#: columns our own code fills with values that never start like a formula
_SAFE_COLUMNS = frozenset({"row", "e164", "status", "error_code", "number_type", "timezone_source"})


def report_frame(results: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The report's columns, in order, as text; one line per record."""
    present = results.collect_schema().names()
    columns = [pl.col(c) if c in present else pl.lit(None).alias(c) for c in REPORT_COLUMNS]
    frame = results.lazy().select(columns)
    return frame.select(
        (
            pl.col(c).cast(pl.String) if c in _SAFE_COLUMNS else neutralise(clean_expr(pl.col(c)))
        ).alias(c)
        for c in REPORT_COLUMNS
    )


def write_report(results: pl.DataFrame | pl.LazyFrame, path: Path) -> None:
    """The per-row report in one go (CSV, or JSON lines for ``.jsonl``)."""
    writer = ReportWriter(path)
    try:
        writer.add(results)
        writer.commit()
    finally:
        writer.discard()


def write_rejects(
    raw: pl.DataFrame,
    headers: Sequence[str],
    results: pl.DataFrame | pl.LazyFrame,
    out: StagedFile,
    *,
    append: bool = False,
) -> int:
    """The rejected records exactly as read (same header), plus error columns, written to
    ``out``. Returns their count.

    A rejects file fed back in keeps one pair of error columns: the old ones are replaced.
    ``append`` adds the records of a later piece of the same file (no header line).
    """
    rejected = (
        results.lazy()
        .filter(pl.col("status").is_in(REJECT_STATUSES) & pl.col("row").is_not_null())
        .collect()
    )
    errors = rejected.select(
        "row",
        clean_expr(pl.col("error_code")).alias("\x00code"),
        clean_expr(pl.col("error_message")).alias("\x00message"),
    )
    rows = raw.join(errors, on="row", how="inner", maintain_order="left")
    headers = list(headers)
    keep = len(headers)
    if headers[-2:] == ["error_code", "error_message"]:
        keep -= 2
    data = [pl.nth(i + 1) for i in range(keep)] + [pl.col("\x00code"), pl.col("\x00message")]
    cells = rows.select(neutralise(expr).alias(f"c{i}") for i, expr in enumerate(data))
    with out.open(binary=False, encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if not append:
            header = [neutralise_text(h) for h in headers[:keep]]
            writer.writerow([*header, "error_code", "error_message"])
        writer.writerows(cells.iter_rows())
    return rows.height


@dataclass
class Summary:
    """The figures of one run, for the human summary and ``--summary-json``."""

    command: str
    records: int
    counts: dict[str, int]
    error_codes: dict[str, int]
    examples: dict[str, int]
    exit_code: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    #: records by the type of their valid number, most first
    number_types: dict[str, int] = field(default_factory=dict)
    #: the TOP_ZONES most common time zones (as sent), most first
    timezones: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "records": self.records,
            "counts": self.counts,
            "error_codes": self.error_codes,
            "error_examples": self.examples,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "number_types": self.number_types,
            "timezones": self.timezones,
            **self.extra,
        }


class ReportWriter:
    """The per-row report written piece by piece to a temporary file beside ``path``,
    renamed into place by ``commit`` (``discard``: the final name keeps what it held)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = StagedFile(path)
        self.pieces = 0

    def commit(self) -> None:
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()

    def add(self, results: pl.DataFrame | pl.LazyFrame) -> None:
        frame = report_frame(results).collect()
        with self.file.open() as handle:
            if self.path.suffix == ".jsonl":
                frame.with_columns(pl.col("row").cast(pl.Int64, strict=False)).write_ndjson(handle)
            else:
                frame.write_csv(handle, include_header=self.pieces == 0)
        self.pieces += 1


_NO_VALUES = pl.DataFrame(schema={"value": pl.String, "len": pl.UInt32})


@dataclass
class Tally:
    """What a summary counts, added up piece by piece: records by status, and by error
    code with the first row of each."""

    statuses: pl.DataFrame
    codes: pl.DataFrame
    records: int
    #: records by number_type, and by timezone (columns value, len)
    types: pl.DataFrame = field(default_factory=lambda: _NO_VALUES)
    zones: pl.DataFrame = field(default_factory=lambda: _NO_VALUES)

    @classmethod
    def of(cls, results: pl.DataFrame | pl.LazyFrame) -> Tally:
        lazy = results.lazy()
        names = lazy.collect_schema().names()
        counted = [_by_value(lazy, c) for c in ("number_type", "timezone") if c in names]
        statuses, codes, records, *values = pl.collect_all(
            [
                lazy.group_by("status").len(),
                lazy.filter(pl.col("error_code").is_not_null())
                .group_by("error_code")
                .agg(pl.len(), pl.col("row").min()),
                lazy.select(pl.col("row").count()),
                *counted,
            ],
            engine="streaming",
        )
        values += [_NO_VALUES] * (2 - len(values))
        return cls(statuses, codes, int(records.item()), values[0], values[1])

    def count(self, status: str) -> int:
        """Records of one status."""
        counts = self.statuses.filter(pl.col("status") == status)["len"]
        return int(counts.sum())

    def __add__(self, other: Tally) -> Tally:
        statuses = pl.concat([self.statuses, other.statuses])
        codes = pl.concat([self.codes, other.codes])
        return Tally(
            statuses.group_by("status").agg(pl.col("len").sum()),
            codes.group_by("error_code").agg(pl.col("len").sum(), pl.col("row").min()),
            self.records + other.records,
            _summed(self.types, other.types),
            _summed(self.zones, other.zones),
        )


#: how many time zones a summary names
TOP_ZONES = 10


def _by_value(lazy: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Records by their (non-null) value of ``column``."""
    value = pl.col(column).cast(pl.String).alias("value")
    return lazy.select(value).drop_nulls().group_by("value").len()


def _summed(one: pl.DataFrame, other: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([one, other]).group_by("value").agg(pl.col("len").sum())


def _most_first(counts: pl.DataFrame, limit: int | None = None) -> dict[str, int]:
    ranked = counts.sort(["len", "value"], descending=[True, False])
    if limit is not None:
        ranked = ranked.head(limit)
    return {str(v): int(n) for v, n in ranked.iter_rows()}


def summarise(
    command: str,
    results: pl.DataFrame | pl.LazyFrame | Tally,
    seconds: float,
    extra: Mapping[str, Any] | None = None,
) -> Summary:
    tally = results if isinstance(results, Tally) else Tally.of(results)
    counts = dict(tally.statuses.sort("status").iter_rows())
    codes = tally.codes.sort(["len", "error_code"], descending=[True, False])
    records = tally.records
    exit_code = 0 if set(counts) <= OK_STATUSES else 1
    return Summary(
        command=command,
        records=records,
        counts={str(k): int(v) for k, v in counts.items()},
        error_codes={str(c): int(n) for c, n, _ in codes.iter_rows()},
        examples={str(c): int(r) for c, _, r in codes.iter_rows() if r is not None},
        exit_code=exit_code,
        seconds=seconds,
        extra=dict(extra or {}),
        number_types=_most_first(tally.types),
        timezones=_most_first(tally.zones, TOP_ZONES),
    )


def write_summary_json(summary: Summary, path: Path) -> None:
    write_atomically(path, redact(json.dumps(summary.as_json(), indent=2)) + "\n")


#: how the human summary names each file a run writes (``Summary.extra["files"]``)
_FILE_LABELS = {
    "report": "report",
    "rejects": "rejects",
    "html_report": "html report",
    "summary_json": "summary json",
}


def human_summary(summary: Summary) -> str:
    """A closing table for stderr: counts by status, the top error codes with an example
    row each, the time taken and every file written, once each."""
    where = f" into {summary.extra['target']}" if summary.extra.get("target") else ""
    out = io.StringIO()
    out.write(f"{summary.command}{where}: {summary.records} records in {summary.seconds:.2f}s\n")
    rows = [("status", "records", "")]
    rows += [
        (status, str(n), "") for status, n in sorted(summary.counts.items(), key=lambda kv: -kv[1])
    ]
    codes = list(summary.error_codes.items())[:6]
    if codes:
        rows.append(("error code", "records", "e.g. row"))
        rows += [(code, str(n), str(summary.examples.get(code, ""))) for code, n in codes]
    width = max(len(r[0]) for r in rows)
    for name, count, example in rows:
        out.write(f"  {name:<{width}}  {count:>7}  {example:>8}".rstrip() + "\n")
    if len(summary.error_codes) > len(codes):
        out.write(
            f"  ... and {len(summary.error_codes) - len(codes)} more error codes (see the report)\n"
        )
    flow = _flow_line(summary.extra.get("retry"))
    if flow:
        out.write(flow)
    for name, path in summary.extra.get("files", {}).items():
        out.write(f"  {_FILE_LABELS.get(name, name)}: {path}\n")
    return out.getvalue()


def _flow_line(retry: dict[str, Any] | None) -> str:
    """What the run waited on its API, when it did (the summary's ``retry``)."""
    if not retry or not (retry["responses_429"] or retry["retries"] or retry.get("spent")):
        return ""
    parts = []
    if retry["responses_429"]:
        share = 100 * retry["share_429"]
        parts.append(f"throttled: {retry['responses_429']} answers 429 ({share:.1f}% of requests)")
    if retry["retries"]:
        parts.append(f"{retry['retries']} retries")
    parts.append(f"waited {retry['waited_s']:g} s")
    budget = f"retry budget {retry['budget_s']:g} s, used {retry['used_s']:g} s"
    spent = ", spent" if retry.get("spent") else ""
    return f"  api: {'; '.join(parts)} ({budget}{spent})\n"
