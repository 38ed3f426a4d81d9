"""Phone numbers to E.164, in batch.

``normalize_phones`` is the one entry point the pipeline calls. phonenumbers (parse with
the record's region, ``is_valid_number``, E.164) is the reference every faster path must
agree with. The vectorized fast path (``pipeline.normalize.phones_fast``) decides almost every row
in polars expressions and defers the rest (letters, unusual unicode, ...) to phonenumbers
itself, once per distinct (input, region) pair; should the fast path ever raise, every row
goes to phonenumbers (slower, same answers) with a warning. ``bench/phones.py`` measures it.
"""

from __future__ import annotations

import warnings

import phonenumbers
import polars as pl

from pipeline.normalize.calling import calling_columns
from pipeline.normalize.phones_fast import DEFER, INVALID, fast_e164
from pipeline.outcomes import Code

MISSING_PHONE = Code.MISSING_PHONE
INVALID_PHONE = Code.INVALID_PHONE
# Up to this many rows effective_regions cleans every hint (one polars call), beyond it each
# distinct hint once, mapped back (cheaper when hints repeat over many rows).
_CLEAN_EACH = 10_000


def reference_e164(text: str, region: str) -> tuple[str | None, str | None]:
    """phonenumbers' own answer for one cell: (e164, None) or (None, reason)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return None, f"cannot parse {text!r}: {exc._msg}"
    if not phonenumbers.is_valid_number(number):
        return None, f"{text!r} is not a valid number (region {region})"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def normalize_phones(
    phones: pl.Series,
    regions: pl.Series | None = None,
    default_region: str = "US",
    *,
    calling: bool = False,
) -> pl.DataFrame:
    """E.164 for every cell: columns ``e164``, ``phone_error`` (code), ``phone_message``;
    with ``calling``, also ``number_type`` and ``zones`` (see pipeline.normalize.calling).

    ``regions`` holds an ISO 3166 alpha-2 hint per row (null: ``default_region``).
    """
    # In one chunk each: polars 2.1 panics in ``_messages`` (pl.format over filtered
    # columns) when a column is in several, as the columns of a file read in parts are.
    text = phones.cast(pl.String).rechunk().alias("input")
    region = effective_regions(regions, default_region, len(phones)).rechunk()
    frame = pl.DataFrame([text, region]).hstack(_fast(text.fill_null(""), region))
    frame = _with_reference(frame.with_row_index("_i"))
    missing = pl.col("input").is_null() | ~pl.col("input").str.contains(r"\S")
    invalid = pl.col("e164").is_null()
    extra = calling_columns(frame["e164"], frame["owner"]) if calling else None
    out = frame.select(
        "e164",
        phone_error=pl.when(missing)
        .then(pl.lit(MISSING_PHONE))
        .when(invalid)
        .then(pl.lit(INVALID_PHONE)),
        phone_message=pl.when(missing)
        .then(pl.lit("phone is empty"))
        .otherwise(pl.when(invalid).then(_messages(frame))),
    )
    return out if extra is None else out.hstack(extra)


def _fast(text: pl.Series, region: pl.Series) -> pl.DataFrame:
    """The vectorized fast path; should it ever fail, phonenumbers answers every row."""
    try:
        return fast_e164(text, region)
    except pl.exceptions.PolarsError as exc:
        warnings.warn(f"phone fast path failed, using phonenumbers: {exc}", stacklevel=3)
        return pl.DataFrame(
            {"status": [DEFER] * len(text), "reason": None, "e164": None, "owner": None},
            schema={
                "status": pl.String,
                "reason": pl.String,
                "e164": pl.String,
                "owner": pl.UInt16,
            },
        )


def effective_regions(regions: pl.Series | None, default_region: str, height: int) -> pl.Series:
    """Each row's region hint, upper-cased; null or not two letters → ``default_region``.

    Hints repeat a lot, so in large batches each distinct one is cleaned once and mapped
    back (see _CLEAN_EACH).
    """
    if regions is None:
        return pl.Series("region", [default_region], dtype=pl.String).new_from_index(0, height)
    hints = regions.cast(pl.String)
    upper = pl.col("hint").str.strip_chars().str.to_uppercase()
    chosen = (
        pl.when(upper.str.contains(r"^[A-Z]{2}$")).then(upper).otherwise(pl.lit(default_region))
    )
    if height <= _CLEAN_EACH:
        return hints.to_frame("hint").select(chosen.alias("region")).to_series()
    distinct = hints.unique().drop_nulls()
    cleaned = distinct.to_frame("hint").select(chosen).to_series()
    mapped = hints.replace_strict(distinct, cleaned, default=None, return_dtype=pl.String)
    return mapped.fill_null(default_region).alias("region")


def _with_reference(frame: pl.DataFrame) -> pl.DataFrame:
    """Deferred rows get phonenumbers' answer (``e164``; ``reason`` holds its message),
    computed once per distinct (input, region) pair."""
    if not (frame["status"] == DEFER).any():
        return frame
    deferred = frame.filter(pl.col("status") == DEFER)
    pairs = deferred.select("input", "region").unique()
    answers = [reference_e164(text or "", region) for text, region in pairs.iter_rows()]
    pairs = pairs.with_columns(
        pl.Series("_ref_e164", [a[0] for a in answers], dtype=pl.String),
        pl.Series("_ref_message", [a[1] for a in answers], dtype=pl.String),
    )
    deferred = deferred.join(pairs, on=["input", "region"], how="left", nulls_equal=True)
    return frame.with_columns(
        e164=frame["e164"].scatter(deferred["_i"], deferred["_ref_e164"]),
        reason=frame["reason"].scatter(deferred["_i"], deferred["_ref_message"]),
    )


def _messages(frame: pl.DataFrame) -> pl.Series:
    """Why each row is not a phone number (phonenumbers' words when deferred); meaningful
    where ``e164`` is null."""
    rows = pl.col("status") == INVALID
    said = pl.format(
        "'{}' is not a valid phone number (region {}): {}",
        *(pl.col(name).filter(rows) for name in ("input", "region", "reason")),
    )
    invalid = frame.select(pl.col("_i").filter(rows), said.alias("said"))
    return frame["reason"].scatter(invalid["_i"], invalid["said"])
