"""Clean, normalize, validate and dedupe the contact frame: read → checked frame.

The checked frame keeps every record (``row``) with ``e164``, ``status`` (``valid``,
``invalid``, ``duplicate``), ``error_code`` (the first problem) and ``error_message``
(all of them), plus the cleaned canonical fields that targets consume:
``tags``/``lists`` as lists, ``opted_out`` as a boolean, ``metadata`` as JSON text and
``name`` derived from first/last when absent (first/last split from ``name`` likewise).
"""

from __future__ import annotations

from collections.abc import Collection

import pandera.errors
import polars as pl

from pipeline.normalize.country import with_country_codes
from pipeline.normalize.fields import clean_fields, typed_fields
from pipeline.normalize.phones import normalize_phones
from schemas.contact import ERROR_CODES, ContactModel

#: the order in which problems are named; the first one found is the row's error_code
_CHECK_ORDER = ("read", "phone", "email", "timezone", "language", "opted_out")
_EMPTY_ERRORS = pl.DataFrame(
    schema={
        "row": pl.Int64,
        "field": pl.String,
        "error_code": pl.String,
        "error_message": pl.String,
    }
)


def check_contacts(
    contacts: pl.DataFrame,
    *,
    default_region: str = "US",
    read_errors: pl.DataFrame | None = None,
    kept_before: pl.DataFrame | None = None,
    phones: pl.DataFrame | None = None,
    wanted: Collection[str] | None = None,
) -> pl.DataFrame:
    """The checked frame for a contact frame (see the module docstring):
    :func:`check_records`, then :func:`mark_duplicates`.

    ``kept_before`` (see :func:`kept_numbers`) holds the numbers kept from earlier pieces
    of the same file: a valid row with one of them is a duplicate of that earlier row.
    """
    checked = check_records(
        contacts,
        default_region=default_region,
        read_errors=read_errors,
        phones=phones,
        wanted=wanted,
    )
    return mark_duplicates(checked, kept_before)


def check_records(
    contacts: pl.DataFrame,
    *,
    default_region: str = "US",
    read_errors: pl.DataFrame | None = None,
    phones: pl.DataFrame | None = None,
    wanted: Collection[str] | None = None,
) -> pl.DataFrame:
    """The part of the check each record passes alone: phones, fields, problems, typed
    fields; ``status`` is ``valid`` or ``invalid`` (duplicates are :func:`mark_duplicates`').

    Order-free, so the pieces of a big file are checked ahead, in threads.
    ``phones`` is :func:`contact_phones` of ``contacts`` when it was worked out already.
    ``wanted`` names the only columns the caller will use: the typed fields it leaves out
    are not worked out.
    """
    contacts = with_country_codes(contacts)
    if phones is None:
        phones = _phones(contacts, default_region)
    frame = contacts.with_columns(phones["e164"]).pipe(clean_fields)
    problems = pl.concat(
        [
            _read_problems(read_errors),
            _phone_problems(contacts["row"], phones),
            schema_problems(frame),
        ]
    )
    return frame.pipe(_attach_problems, problems).pipe(typed_fields, wanted).pipe(first_valid_rows)


def contact_phones(contacts: pl.DataFrame, default_region: str = "US") -> pl.DataFrame:
    """The contacts' phones to E.164 (see ``normalize_phones``), each with its record's
    country as the region hint: the costly, order-free part of the check."""
    return _phones(with_country_codes(contacts), default_region)


def _phones(contacts: pl.DataFrame, default_region: str) -> pl.DataFrame:
    """:func:`contact_phones` of contacts whose countries are codes already."""
    return normalize_phones(
        contacts["phone_input"], contacts.get_column("country", default=None), default_region
    )


def kept_numbers(checked: pl.DataFrame) -> pl.DataFrame:
    """The numbers a checked piece keeps, as ``e164_key`` (Int64: E.164 digits fit in 15)
    and ``first_row``: what the later pieces of the file are deduplicated against."""
    return checked.filter(pl.col("status") == "valid").select(
        _e164_key(), pl.col("row").alias("first_row")
    )


def number_key(column: str = "e164") -> pl.Expr:
    """An E.164 number as an integer (its digits: at most 15), null for anything else:
    what the numbers of a big file are kept as, at 8 bytes each."""
    is_e164 = pl.col(column).str.contains(r"^\+[1-9][0-9]{0,17}$")
    return pl.when(is_e164).then(_digits(column)).alias("number_key")


def _e164_key() -> pl.Expr:
    """``number_key`` of a checked record's ``e164``, which is E.164 or null already."""
    return _digits("e164").alias("e164_key")


def _digits(column: str) -> pl.Expr:
    return pl.col(column).str.slice(1).cast(pl.Int64, strict=False)


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


def _phone_problems(rows: pl.Series, phones: pl.DataFrame) -> pl.DataFrame:
    frame = pl.DataFrame({"row": rows.cast(pl.Int64)}).with_columns(
        pl.lit("phone").alias("field"),
        phones["phone_error"].alias("error_code"),
        (pl.lit("phone: ") + phones["phone_message"]).alias("error_message"),
    )
    return frame.filter(pl.col("error_code").is_not_null())


def _read_problems(read_errors: pl.DataFrame | None) -> pl.DataFrame:
    if read_errors is None or read_errors.is_empty():
        return _EMPTY_ERRORS
    return read_errors.select(
        pl.col("row").cast(pl.Int64),
        pl.lit("read").alias("field"),
        pl.col("error_code"),
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


def mark_duplicates(frame: pl.DataFrame, kept_before: pl.DataFrame | None = None) -> pl.DataFrame:
    """Among valid rows, the first of each E.164 wins; later ones are duplicates of it
    (of the earlier piece's row, with ``kept_before``).

    ``frame`` is :func:`check_records`' output: its ``first_row`` column names the first
    valid row of each number within the piece already (the order-free part)."""
    return settle_duplicates(frame, kept_before)[0]


def settle_duplicates(
    frame: pl.DataFrame, kept_before: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`mark_duplicates`, and the numbers the piece keeps (what :func:`kept_numbers`
    gives of its result), found from the integer keys rather than the texts: pieces are
    settled one after another while the next ones wait (some 15 ms a piece of 336k rows)."""
    joined = frame
    if kept_before is not None and kept_before.height:
        earlier = kept_before.rename({"first_row": "_earlier"})
        joined = (
            joined.join(earlier, on="e164_key", how="left", maintain_order="left")
            .with_columns(pl.coalesce("_earlier", "first_row").alias("first_row"))
            .drop("_earlier")
        )
    # first_row is null on the rows that are not valid: they compare null, never true
    kept = joined.filter(pl.col("row") == pl.col("first_row")).select(
        "e164_key", pl.col("row").alias("first_row")
    )
    is_dup = (pl.col("status") == "valid") & (pl.col("row") != pl.col("first_row"))
    marked = joined.with_columns(
        pl.when(is_dup).then(pl.lit("duplicate")).otherwise(pl.col("status")).alias("status"),
        pl.when(is_dup)
        .then(pl.lit("duplicate_in_file"))
        .otherwise(pl.col("error_code"))
        .alias("error_code"),
        pl.when(is_dup)
        .then(
            pl.format(
                "same number {} as row {}, which is kept", pl.col("e164"), pl.col("first_row")
            )
        )
        .otherwise(pl.col("error_message"))
        .alias("error_message"),
    ).drop("first_row", "e164_key")
    return marked, kept


def first_valid_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """``e164_key`` and ``first_row``: the first valid row of the piece with the same
    number, for :func:`mark_duplicates`."""
    valid = pl.col("status") == "valid"
    key = pl.when(valid).then(_e164_key())
    # The rows that are not valid share the null key: their minimum is dropped after.
    first = pl.col("row").min().over("e164_key")
    return frame.with_columns(key).with_columns(
        pl.when(pl.col("e164_key").is_not_null()).then(first).alias("first_row")
    )
