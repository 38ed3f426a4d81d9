"""Phone numbers to E.164, in batch.

``normalize_phones`` is the one entry point the pipeline calls. phonenumbers (parse with
the record's region, ``is_valid_number``, E.164) is the reference every faster path must
agree with; equal (input, region) pairs are normalized once.
"""

from __future__ import annotations

import phonenumbers
import polars as pl

from pipeline.phones_fast import DEFER, INVALID, VALID, fast_e164

MISSING_PHONE = "missing_phone"
INVALID_PHONE = "invalid_phone"


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
    phones: pl.Series, regions: pl.Series | None = None, default_region: str = "US"
) -> pl.DataFrame:
    """E.164 for every cell: columns ``e164``, ``phone_error`` (code), ``phone_message``.

    ``regions`` holds an ISO 3166 alpha-2 hint per row (null: ``default_region``).
    """
    region = (
        regions.cast(pl.String).str.strip_chars().str.to_uppercase().fill_null(default_region)
        if regions is not None
        else pl.Series([default_region] * len(phones), dtype=pl.String)
    )
    frame = pl.DataFrame({"input": phones.cast(pl.String), "region": region})
    frame = frame.with_columns(
        pl.when(pl.col("region").str.contains(r"^[A-Z]{2}$"))
        .then(pl.col("region"))
        .otherwise(pl.lit(default_region))
        .alias("region")
    )
    distinct = frame.filter(pl.col("input").str.strip_chars() != "").unique()
    answers = [reference_e164(t, r) for t, r in distinct.iter_rows()]
    decided = distinct.with_columns(
        pl.Series("e164", [a[0] for a in answers], dtype=pl.String),
        pl.Series("phone_message", [a[1] for a in answers], dtype=pl.String),
    )
    joined = frame.join(decided, on=["input", "region"], how="left", maintain_order="left")
    missing = pl.col("input").is_null() | (pl.col("input").str.strip_chars() == "")
    return joined.select(
        pl.col("e164"),
        pl.when(missing)
        .then(pl.lit(MISSING_PHONE))
        .when(pl.col("e164").is_null())
        .then(pl.lit(INVALID_PHONE))
        .alias("phone_error"),
        pl.when(missing)
        .then(pl.lit("phone is empty"))
        .otherwise(pl.col("phone_message"))
        .alias("phone_message"),
    )


def _effective_regions(regions: pl.Series | None, default_region: str, height: int) -> pl.Series:
    """Each row's region hint, upper-cased; null or not two letters → ``default_region``."""
    if regions is None:
        return pl.Series("region", [default_region] * height, dtype=pl.String)
    cleaned = regions.cast(pl.String).str.strip_chars().str.to_uppercase()
    two_letters = cleaned.str.contains(r"^[A-Z]{2}$").fill_null(False)
    return (
        pl.select(pl.when(two_letters).then(cleaned).otherwise(pl.lit(default_region)))
        .to_series()
        .alias("region")
    )


def _reference_for(frame: pl.DataFrame) -> pl.DataFrame:
    """phonenumbers on each distinct (input, region) pair of ``frame``."""
    distinct = frame.select("input", "region").unique()
    answers = [reference_e164(text, region) for text, region in distinct.iter_rows()]
    return distinct.with_columns(
        pl.Series("ref_e164", [a[0] for a in answers], dtype=pl.String),
        pl.Series("ref_message", [a[1] for a in answers], dtype=pl.String),
    )


def _normalize_batch(
    phones: pl.Series, regions: pl.Series | None = None, default_region: str = "US"
) -> pl.DataFrame:
    """normalize_phones via the vectorized fast path; phonenumbers for the rows it defers."""
    text = phones.cast(pl.String).alias("input")
    region = _effective_regions(regions, default_region, len(phones))
    frame = pl.DataFrame([text, region]).with_columns(fast_e164(text.fill_null(""), region))
    missing = pl.col("input").is_null() | (pl.col("input").str.strip_chars() == "")
    frame = frame.with_columns(_missing=missing)
    deferred = frame.filter((pl.col("status") == DEFER) & ~pl.col("_missing"))
    if deferred.height:
        frame = frame.join(
            _reference_for(deferred), on=["input", "region"], how="left", maintain_order="left"
        )
    else:
        frame = frame.with_columns(
            ref_e164=pl.lit(None, pl.String), ref_message=pl.lit(None, pl.String)
        )
    return frame.select(_e164(), _error(), _message())


def _e164() -> pl.Expr:
    status = pl.col("status")
    return (
        pl.when(pl.col("_missing"))
        .then(pl.lit(None, pl.String))
        .when(status == VALID)
        .then(pl.col("e164"))
        .when(status == DEFER)
        .then(pl.col("ref_e164"))
        .alias("e164")
    )


def _error() -> pl.Expr:
    return (
        pl.when(pl.col("_missing"))
        .then(pl.lit(MISSING_PHONE))
        .when(_e164().is_null())
        .then(pl.lit(INVALID_PHONE))
        .alias("phone_error")
    )


def _message() -> pl.Expr:
    said = pl.format(
        "'{}' is not a valid phone number (region {}): {}", "input", "region", "reason"
    )
    return (
        pl.when(pl.col("_missing"))
        .then(pl.lit("phone is empty"))
        .when(pl.col("status") == INVALID)
        .then(said)
        .when(pl.col("status") == DEFER)
        .then(pl.col("ref_message"))
        .alias("phone_message")
    )
