"""Validate the contact frame, its values normalized as it goes: contact frame → checked
records.

Each record is checked alone (:func:`check_records`): its phone to E.164, its country to
a code, its other fields cleaned (:mod:`pipeline.normalize`), then every problem found in
one pandera pass. The checked records keep every record (``row``) with ``e164``,
``status`` (``valid`` or ``invalid``; :mod:`pipeline.dedupe` makes the later records of a
number ``duplicate``), ``error_code`` (the first problem) and ``error_message`` (all of
them), plus the cleaned canonical fields that targets consume: ``tags``/``lists`` as
lists, ``opted_out`` as a boolean, ``metadata`` as JSON text and ``name`` derived from
first/last when absent (first/last split from ``name`` likewise).
"""

from __future__ import annotations

from collections.abc import Collection

import pandera.errors
import polars as pl

from pipeline.mapping import OTHERS_COLUMN
from pipeline.normalize.country import UNKNOWN_COUNTRY, unknown_countries, with_country_codes
from pipeline.normalize.fields import clean_fields, typed_fields
from pipeline.normalize.phone_cells import cell_phones
from pipeline.normalize.phones import MISSING_PHONE
from pipeline.normalize.screening import CallingOptions, type_problems, with_calling_fields
from pipeline.outcomes import Code
from pipeline.read import SHORT_ROW
from pipeline.requirements import SOURCES, Requirements
from schemas.contact import ERROR_CODES, ContactModel

#: the field of a note: said in error_message, with no error_code (the record stays valid)
NOTE = "note"
#: the order in which problems are named; the first one found is the row's error_code
#: (notes come last: a record with a note and a problem has the problem's code)
_CHECK_ORDER = (
    "read",
    "phone",
    "required",
    "number_type",
    "country",
    "email",
    "timezone",
    "language",
    "opted_out",
    NOTE,
)
_EMPTY_ERRORS = pl.DataFrame(
    schema={
        "row": pl.Int64,
        "field": pl.String,
        "error_code": pl.String,
        "error_message": pl.String,
    }
)


def check_records(
    contacts: pl.DataFrame,
    *,
    default_region: str = "US",
    read_errors: pl.DataFrame | None = None,
    phones: pl.DataFrame | None = None,
    wanted: Collection[str] | None = None,
    calling: CallingOptions | None = None,
    requires: Requirements | None = None,
    target: str = "",
) -> pl.DataFrame:
    """The check each record passes alone: phones, fields, problems, typed fields;
    ``status`` is ``valid`` or ``invalid`` (duplicates are :mod:`pipeline.dedupe`'s).
    ``calling``: number types and time zones (see :mod:`pipeline.normalize.screening`).
    ``requires``: what ``target`` refuses (``missing_required``, ``number_too_long``).

    Order-free, so the pieces of a big file are checked ahead, in threads.
    ``phones`` is :func:`contact_phones` of ``contacts`` when it was worked out already.
    ``wanted`` names the only columns the caller will use: the typed fields it leaves out
    are not worked out.
    """
    calling = calling or CallingOptions()
    others = contacts.get_column(OTHERS_COLUMN, default=None)
    if others is not None:
        contacts = contacts.drop(OTHERS_COLUMN)
    unknown = unknown_countries(contacts)
    contacts = with_country_codes(contacts)
    if phones is None:
        phones = _phones(contacts, default_region, calling=calling.active)
    frame = contacts.with_columns(phones["e164"]).pipe(clean_fields)
    problems = pl.concat(
        [
            _read_problems(read_errors),
            _phone_problems(contacts["row"], phones, others),
            _phone_notes(contacts["row"], phones),
            type_problems(contacts["row"], phones, calling),
            _country_problems(unknown, default_region),
            schema_problems(frame),
            requirement_problems(frame, requires, target),
        ]
    )
    checked = frame.pipe(_attach_problems, problems).pipe(typed_fields, wanted)
    return with_calling_fields(checked, phones, calling)


def contact_phones(
    contacts: pl.DataFrame, default_region: str = "US", *, calling: bool = False
) -> pl.DataFrame:
    """The contacts' phones to E.164 (see ``normalize_phones``), each with its record's
    country as the region hint: the costly, order-free part of the check."""
    return _phones(with_country_codes(contacts), default_region, calling=calling)


def _phones(contacts: pl.DataFrame, default_region: str, *, calling: bool) -> pl.DataFrame:
    """:func:`contact_phones` of contacts whose countries are codes already."""
    return cell_phones(
        contacts["phone_input"],
        contacts.get_column("country", default=None),
        default_region,
        calling=calling,
    )


def schema_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """Every failing value of every row, in one lazy pandera pass."""
    columns = ["row", *ERROR_CODES]
    try:
        ContactModel.validate(frame.select(columns), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return _problems_from_failure_cases(frame, exc.failure_cases)
    return _EMPTY_ERRORS


def _problems_from_failure_cases(frame: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    cases = cases.filter(pl.col("index").is_not_null() & pl.col("column").is_in(list(ERROR_CODES)))
    rows = frame["row"].gather(cases["index"].cast(pl.Int64))
    value = pl.col("failure_case").cast(pl.String).str.slice(0, 80)
    return cases.with_columns(rows.cast(pl.Int64).alias("row")).select(
        pl.col("row"),
        pl.col("column").alias("field"),
        pl.col("column").replace_strict(ERROR_CODES, return_dtype=pl.String).alias("error_code"),
        pl.format(
            "{} '{}' {}",
            pl.col("column"),
            value,
            pl.col("column").replace_strict(_REASONS, return_dtype=pl.String),
        ).alias("error_message"),
    )


_REASONS = {
    "email": "is not a valid email address",
    "timezone": "is not an IANA time zone (e.g. America/New_York)",
    "language": "is not a BCP 47 language tag (e.g. en-US, hi-IN)",
    "opted_out": "is not a yes/no value (true, false, yes, no, 1, 0)",
}


def requirement_problems(
    frame: pl.DataFrame, requires: Requirements | None, target: str
) -> pl.DataFrame:
    """The records ``target`` would refuse: a required field empty, too many digits."""
    if requires is None or not requires:
        return _EMPTY_ERRORS
    found = []
    for name in requires.fields:
        columns = [c for c in SOURCES.get(name, (name,)) if c in frame.columns]
        empty = pl.lit(True)
        for column in columns:
            empty = empty & (pl.col(column).cast(pl.String).str.strip_chars().fill_null("") == "")
        what = "a name (name, or first or last name)" if name == "name" else f"a {name}"
        message = f"{target} requires {what}: this record has none; add one"
        found.append(_problem(frame, empty & pl.col("e164").is_not_null(), message))
    if requires.e164_max_digits:
        most = requires.e164_max_digits
        digits = pl.col("e164").str.len_chars() - 1
        too_long = pl.format(
            "the number {} has {} digits; {} takes at most {} (E.164's limit): check it",
            pl.col("e164"),
            digits,
            pl.lit(target),
            pl.lit(most),
        )
        found.append(_problem(frame, digits > most, too_long, Code.NUMBER_TOO_LONG))
    return pl.concat(found) if found else _EMPTY_ERRORS


def _problem(
    frame: pl.DataFrame,
    where: pl.Expr,
    message: str | pl.Expr,
    code: str = Code.MISSING_REQUIRED,
) -> pl.DataFrame:
    text = pl.lit(message) if isinstance(message, str) else message
    return frame.filter(where.fill_null(False)).select(
        pl.col("row").cast(pl.Int64),
        pl.lit("required").alias("field"),
        pl.lit(code).alias("error_code"),
        text.cast(pl.String).alias("error_message"),
    )


def _phone_problems(
    rows: pl.Series, phones: pl.DataFrame, others: pl.Series | None = None
) -> pl.DataFrame:
    """The phone's problems; ``others``: the column of another person's number a record
    holds (see :mod:`pipeline.mapping`), named when the record has none of its own."""
    message = pl.lit("phone: ") + phones["phone_message"]
    if others is not None:
        theirs = pl.lit(others)
        message = (
            pl.when((phones["phone_error"] == MISSING_PHONE) & theirs.is_not_null())
            .then(
                pl.format(
                    "phone: the contact has no phone of its own; '{}' holds another "
                    "person's number (--map phone=COLUMN if it is the contact's)",
                    theirs,
                )
            )
            .otherwise(message)
        )
    frame = pl.DataFrame({"row": rows.cast(pl.Int64)}).with_columns(
        pl.lit("phone").alias("field"),
        phones["phone_error"].alias("error_code"),
        message.alias("error_message"),
    )
    return frame.filter(pl.col("error_code").is_not_null())


def _phone_notes(rows: pl.Series, phones: pl.DataFrame) -> pl.DataFrame:
    """A note (no error_code: the record stays valid) where the phone cell held more
    than the number used (see :mod:`pipeline.normalize.phone_cells`)."""
    if "phone_note" not in phones.columns:
        return _EMPTY_ERRORS
    frame = pl.DataFrame({"row": rows.cast(pl.Int64)}).with_columns(
        pl.lit(NOTE).alias("field"),
        pl.lit(None, dtype=pl.String).alias("error_code"),
        (pl.lit("phone: ") + phones["phone_note"]).alias("error_message"),
    )
    return frame.filter(pl.col("error_message").is_not_null())


def _country_problems(unknown: pl.DataFrame, default_region: str) -> pl.DataFrame:
    return unknown.select(
        "row",
        pl.lit("country").alias("field"),
        pl.lit(UNKNOWN_COUNTRY).alias("error_code"),
        pl.format(
            "country '{}' is neither an ISO code nor a country name we know; write the "
            "country's name or ISO code (its phone was read as {})",
            pl.col("cell").str.slice(0, 80),
            pl.lit(default_region),
        ).alias("error_message"),
    )


def _read_problems(read_errors: pl.DataFrame | None) -> pl.DataFrame:
    if read_errors is None or read_errors.is_empty():
        return _EMPTY_ERRORS
    note = pl.col("error_code") == SHORT_ROW  # a note: the record stays valid
    return read_errors.select(
        pl.col("row").cast(pl.Int64),
        pl.when(note).then(pl.lit(NOTE)).otherwise(pl.lit("read")).alias("field"),
        pl.when(note).then(None).otherwise(pl.col("error_code")).alias("error_code"),
        pl.col("error_message"),
    )


def _attach_problems(frame: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    order = pl.col("field").replace_strict(
        {name: i for i, name in enumerate(_CHECK_ORDER)},
        default=len(_CHECK_ORDER),
        return_dtype=pl.Int32,
    )
    ranked = problems.sort(["row", order])
    # Most rows with a problem have one: only rows with several are grouped (a group_by
    # with a text join is some 45 ms over a piece's 63k problems).
    several = ranked["row"].is_duplicated()
    per_row = ranked.select("row", "error_code", "error_message")
    if several.any():
        grouped = (
            per_row.filter(several)
            .group_by("row", maintain_order=True)
            .agg(pl.col("error_code").first(), pl.col("error_message").str.join("; "))
        )
        per_row = pl.concat([per_row.filter(~several), grouped])  # any order: placed by row
    return _with_problems(frame, per_row).with_columns(
        pl.when(pl.col("error_code").is_null())
        .then(pl.lit("valid"))
        .otherwise(pl.lit("invalid"))
        .alias("status")
    )


def _with_problems(frame: pl.DataFrame, per_row: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``per_row``'s error_code and error_message (one row each) by row.

    A piece's rows are consecutive numbers, so each problem's place is its row less the
    first: a gather, where a join hashes every row (the join is kept for other frames).
    """
    rows = frame["row"]
    first = rows[0] if len(rows) else 0
    consecutive = bool((rows == pl.int_range(first, first + len(rows), eager=True)).all())
    if not consecutive or rows.null_count():
        return frame.join(per_row, on="row", how="left", maintain_order="left")
    at = pl.repeat(None, len(rows), dtype=pl.UInt32, eager=True)
    at = at.scatter(
        per_row["row"] - first, pl.int_range(per_row.height, dtype=pl.UInt32, eager=True)
    )
    return frame.with_columns(
        per_row["error_code"].gather(at).alias("error_code"),
        per_row["error_message"].gather(at).alias("error_message"),
    )
