"""The canonical contact as a pandera model on polars.

Each check carries the error code a failing value gets in the report; ``validate`` in
``pipeline.validate`` turns pandera's failure cases into those per-row codes.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Final

import pandera.polars as pa
import polars as pl

from pipeline.outcomes import Code

EMAIL_PATTERN: Final = r"^[^@\s,;<>()\[\]]+@[^@\s,;<>()\[\]]+\.[A-Za-z]{2,}$"
#: BCP 47 as used by the targets: a 2-3 letter language, then subtags (``hi-IN``, ``zh-Hant-TW``).
LANGUAGE_PATTERN: Final = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
OPTED_OUT_WORDS: Final = ("true", "false", "yes", "no", "y", "n", "1", "0", "x", "opted out", "")


@cache
def iana_timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


class ContactModel(pa.DataFrameModel):
    """Fields of a contact as read from the file (strings, stripped, empty → null)."""

    row: int = pa.Field(ge=1, unique=True)
    email: str = pa.Field(
        nullable=True,
        str_matches=EMAIL_PATTERN,
        metadata={"code": Code.INVALID_EMAIL},
    )
    timezone: str = pa.Field(nullable=True, metadata={"code": Code.INVALID_TIMEZONE})
    language: str = pa.Field(
        nullable=True, str_matches=LANGUAGE_PATTERN, metadata={"code": Code.INVALID_LANGUAGE}
    )
    opted_out: str = pa.Field(
        nullable=True,
        isin=list(OPTED_OUT_WORDS),
        metadata={"code": Code.INVALID_OPTED_OUT},
    )

    @pa.check("timezone", name=Code.INVALID_TIMEZONE)
    @classmethod
    def timezone_is_iana(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col(data.key).is_null() | pl.col(data.key).is_in(iana_timezones())
        )

    class Config:
        strict = False
        coerce = False


#: column → error code for a failing check (the column name itself when not listed)
ERROR_CODES: Final[dict[str, str]] = {
    "email": Code.INVALID_EMAIL,
    "timezone": Code.INVALID_TIMEZONE,
    "language": Code.INVALID_LANGUAGE,
    "opted_out": Code.INVALID_OPTED_OUT,
}
