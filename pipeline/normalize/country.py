"""Country cells to ISO 3166 alpha-2 codes: a code phonenumbers knows, or a country's name.

The names are phonenumbers' own territory names (``phonenumbers.geodata.locale``, kept
with its geocoder: some 250 regions, in English and in a few dozen other languages),
plus the short forms people write (``COUNTRY_NAMES``); a name two regions share in some
language is left out unless ``COUNTRY_NAMES`` decides it.

The contact frame carries the country cell as read (``pipeline.mapping``); this makes it
a code (null when unknown), worked out once per distinct cell: a file names a few hundred
countries at most. The code is also the region each record's phone is read with.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import phonenumbers
import polars as pl

from pipeline.outcomes import Code

#: Full English names (and a few common short forms) of the countries contact files
#: name most often -> ISO 3166 alpha-2. Every alpha-2 region phonenumbers knows is
#: accepted as itself besides these.
COUNTRY_NAMES: Final[dict[str, str]] = {
    "unitedstates": "US", "unitedstatesofamerica": "US", "usa": "US", "us": "US",
    "america": "US", "canada": "CA", "mexico": "MX", "unitedkingdom": "GB", "uk": "GB",
    "greatbritain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northernireland": "GB", "ireland": "IE", "france": "FR",
    "germany": "DE", "deutschland": "DE", "spain": "ES", "espana": "ES", "portugal": "PT",
    "italy": "IT", "italia": "IT", "netherlands": "NL", "thenetherlands": "NL",
    "holland": "NL", "belgium": "BE", "luxembourg": "LU", "switzerland": "CH",
    "austria": "AT", "osterreich": "AT", "denmark": "DK", "sweden": "SE", "norway": "NO",
    "finland": "FI", "iceland": "IS", "poland": "PL", "czechrepublic": "CZ",
    "czechia": "CZ", "slovakia": "SK", "hungary": "HU", "romania": "RO", "bulgaria": "BG",
    "greece": "GR", "croatia": "HR", "serbia": "RS", "slovenia": "SI", "ukraine": "UA",
    "russia": "RU", "russianfederation": "RU", "turkey": "TR", "turkiye": "TR",
    "israel": "IL", "unitedarabemirates": "AE", "uae": "AE", "saudiarabia": "SA",
    "qatar": "QA", "egypt": "EG", "morocco": "MA", "nigeria": "NG", "kenya": "KE",
    "ghana": "GH", "southafrica": "ZA", "ethiopia": "ET", "india": "IN", "pakistan": "PK",
    "bangladesh": "BD", "srilanka": "LK", "nepal": "NP", "china": "CN", "hongkong": "HK",
    "taiwan": "TW", "japan": "JP", "southkorea": "KR", "korea": "KR",
    "republicofkorea": "KR", "singapore": "SG", "malaysia": "MY", "indonesia": "ID",
    "philippines": "PH", "thailand": "TH", "vietnam": "VN", "australia": "AU",
    "newzealand": "NZ", "brazil": "BR", "brasil": "BR", "argentina": "AR", "chile": "CL",
    "colombia": "CO", "peru": "PE", "venezuela": "VE", "ecuador": "EC",
    "dominicanrepublic": "DO", "puertorico": "PR", "costarica": "CR", "guatemala": "GT",
    "panama": "PA", "jamaica": "JM", "uruguay": "UY", "paraguay": "PY", "bolivia": "BO",
}  # fmt: skip


#: the error code of a country cell that is neither a known code nor a known name
UNKNOWN_COUNTRY = Code.UNKNOWN_COUNTRY


def _country_table() -> dict[str, str]:
    table = _territory_names()
    table.update({region.lower(): region for region in phonenumbers.SUPPORTED_REGIONS})
    table.update(COUNTRY_NAMES)
    return table


def _territory_names() -> dict[str, str]:
    """phonenumbers' territory names in every language it has, by their key (see
    :func:`country_code`); a key naming two regions is dropped."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    found: dict[str, set[str]] = {}
    for region, names in LOCALE_DATA.items():
        for name in names.values():
            key = _key(name)
            if key and not name.startswith("*"):
                found.setdefault(key, set()).add(region)
    return {key: regions.pop() for key, regions in found.items() if len(regions) == 1}


def _key(name: str) -> str:
    """A name as :func:`country_code` compares it (in Python, for the table)."""
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", name).lower())


_COUNTRIES: Final = _country_table()


def country_code(value: pl.Expr) -> pl.Expr:
    """ISO alpha-2 for a code or a known country name; null when unknown."""
    normalized = value.str.normalize("NFKD").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
    return normalized.replace_strict(_COUNTRIES, default=None, return_dtype=pl.String)


def country_codes(cells: pl.Series) -> pl.Series:
    """``country_code`` of every cell, worked out once per distinct cell and mapped back."""
    text = cells.cast(pl.String)
    distinct = text.unique().drop_nulls()
    codes = distinct.to_frame("cell").select(country_code(_clean(pl.col("cell")))).to_series()
    return text.replace_strict(distinct, codes, default=None, return_dtype=pl.String)


def unknown_countries(contacts: pl.DataFrame) -> pl.DataFrame:
    """``row``, ``cell`` of every record whose country cell is not blank and names no
    country (raw contact frame, before :func:`with_country_codes`)."""
    if "country" not in contacts.columns:
        return pl.DataFrame(schema={"row": pl.Int64, "cell": pl.String})
    codes = country_codes(contacts["country"]).alias("_code")
    found = contacts.select(pl.col("row").cast(pl.Int64), _clean(pl.col("country")).alias("cell"))
    found = found.with_columns(codes)
    return found.filter(pl.col("cell").is_not_null() & pl.col("_code").is_null()).drop("_code")


def with_country_codes(contacts: pl.DataFrame) -> pl.DataFrame:
    """The contact frame with its ``country`` cells as codes (a frame without one as it is)."""
    if "country" not in contacts.columns:
        return contacts
    return contacts.with_columns(country_codes(contacts["country"]).alias("country"))


def _clean(cell: pl.Expr) -> pl.Expr:
    """A cell stripped, null when blank (as ``pipeline.mapping`` cleans the other fields)."""
    stripped = cell.cast(pl.String).str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped).otherwise(None)
