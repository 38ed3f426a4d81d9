"""Map CSV columns to the canonical contact fields, then build the contact frame.

``map_columns(columns)`` decides which column feeds which field; ``to_contact_frame``
applies the decision to a :class:`~pipeline.read.RawTable` in polars expressions.

Matching
    A header is compared by its *key*: accents stripped, lower-cased, everything but
    letters and digits dropped (``"E-mail Address"`` -> ``emailaddress``,
    ``"Téléphone"`` -> ``telephone``). Three tiers, tried in this order for each field:

    1. the canonical name itself (``first_name``, ``email``, ...);
    2. a known alias (``Given Name``, ``Vorname``, ``E-mail 1 - Value``, ``Account Name``...);
    3. for a few fields, a word rule: a phone word (``phone``, ``mobile``, ``cell``,
       ``tel``...) without a word that marks a column *about* the phone (``type``,
       ``label``, ``ext``, ``opt``, ``country``, ``code``, ...); an e-mail word without
       such a marker; ``first name`` / ``last name`` inside a longer header; ``country``.

    The first column in file order of the best tier wins; a column feeds one field at
    most. ``guessed`` lists the fields filled by tier 2 or 3 (for ``validate`` to show).
    E-mail opt-outs (``HasOptedOutOfEmail``, ``Email Opt Out``) are *not* call opt-outs
    and are never mapped to ``opted_out``; SMS and call opt-outs are.

Phone columns
    Every phone-like column is a candidate; per row the first non-empty cell wins
    (but see labels below). The default order: mobile (``Mobile``, ``Cell``, ``Handy``, ``Móvil``, ``Celular``,
    ``WhatsApp``), then generic (``Phone``, ``Tel``, ``Phone 1 - Value``, ``Primary
    Phone``), then work (``Business``, ``Work``, ``Office``, ``Company``), then home
    (``Home``, ``Private``), then the rest (``Other``, ``Assistant's``, ``Car``...); file
    order within a group. ``phone_preference`` (column names) puts those columns first,
    in that order, ahead of the remaining candidates.

    Google-style ``Phone N - Value`` columns carry their kind in ``Phone N - Label``
    (or ``- Type``), row by row. When the phone columns were chosen automatically
    (``"phone" in guessed``), ``to_contact_frame`` ranks each non-empty candidate of a
    row by its label's kind (``Mobile`` before ``Work``...), then by its place in
    ``phone_columns``; so a row whose Phone 1 is Work and Phone 2 is Mobile gets the
    mobile number. An explicit order (``phone_preference``, ``--map phone=``) is kept
    as given: the first non-empty cell wins.

Overrides (``--map FIELD=COLUMN``)
    An override wins over every rule, and its column is taken out of the automatic
    matching. ``--map phone=COLUMN`` makes that column the only phone candidate.
    ``FIELD`` is a canonical field or ``metadata.KEY``; an empty COLUMN unmaps the
    field. A column is named exactly, or by a case-insensitive match when that is
    unique.

Metadata
    A column named ``metadata.KEY`` (prefix case-insensitive) becomes ``metadata[KEY]``;
    when two name the same key the first one wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from pipeline.errors import InputError
from pipeline.fields import CANONICAL_FIELDS, METADATA_PREFIX, PHONE, ROW
from pipeline.read import RawTable

PHONE_INPUT: Final = "phone_input"
PHONE_COLUMN: Final = "phone_column"


@dataclass(frozen=True)
class ColumnMapping:
    """Which frame column feeds which contact field (see the module docstring)."""

    fields: dict[str, str]
    phone_columns: list[str]
    metadata: dict[str, str] = field(default_factory=dict)
    guessed: dict[str, str] = field(default_factory=dict)


def key(header: str) -> str:
    """The matching key of a header: no accents, lower case, letters and digits only."""
    return "".join(words(header))


def words(header: str) -> list[str]:
    """The words of a header: camelCase split, accents stripped, lower-cased."""
    text = unicodedata.normalize("NFKD", header)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return re.findall(r"[a-z]+|[0-9]+", text.lower())


def _keys(*headers: str) -> frozenset[str]:
    return frozenset(key(h) for h in headers)


#: Tier 2: known header names of real exports (Google, Outlook, iCloud, HubSpot,
#: Salesforce, Pipedrive, Zoho, Mailchimp...) in English, German, French and Spanish.
ALIASES: Final[dict[str, frozenset[str]]] = {
    PHONE: _keys(
        "Phone", "Phone Number", "Phone No", "Mobile", "Mobile Phone", "Mobile Number",
        "Mobile Phone Number", "Cell", "Cell Phone", "Cell Number", "Tel", "Telephone",
        "Telephone Number", "Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value",
        "Business Phone", "Home Phone", "Work Phone", "Primary Phone", "Other Phone",
        "Phone Number (HubSpot)", "Telefon", "Telefonnummer", "Handy", "Handynummer", "Mobil",
        "Mobilnummer", "Téléphone", "Portable", "Móvil", "Teléfono", "Celular", "MSISDN",
        "Contact Number", "WhatsApp", "WhatsApp Number", "MobilePhone",
    ),
    "first_name": _keys(
        "First Name", "Given Name", "Firstname", "First", "FName", "Forename", "Vorname", "Prénom",
        "Nombre",
    ),
    "last_name": _keys(
        "Last Name", "Surname", "Family Name", "Lastname", "Last", "LName", "Nachname", "Nom",
        "Nom de famille", "Apellido", "Apellidos",
    ),
    "name": _keys(
        "Name", "Full Name", "Display Name", "Contact Name", "Fullname", "Nombre completo",
        "Nom complet", "Vollständiger Name",
    ),
    "email": _keys(
        "Email", "E-mail", "E-Mail", "Email Address", "E-mail Address", "E-mail 1 - Value",
        "Email 1 - Value", "Mail", "Email Addresses", "Primary Email", "Courriel", "Correo",
        "Correo electrónico",
    ),
    "company": _keys(
        "Company", "Company Name", "Organization", "Organisation", "Organization Name",
        "Organization 1 - Name", "Account Name", "Firma", "Unternehmen", "Société", "Entreprise",
        "Empresa", "Employer", "Business Name",
    ),
    "timezone": _keys(
        "Time Zone", "Timezone", "TZ", "IANA Time Zone", "Zeitzone",
    ),
    "language": _keys(
        "Language", "Locale", "Preferred Language", "Lang", "Sprache", "Langue", "Idioma",
    ),
    "tags": _keys(
        "Tags", "Tag", "Labels", "Label", "Group Membership", "Groups",
    ),
    "lists": _keys(
        "Lists", "List", "List IDs", "List ID", "List Ids",
    ),
    "opted_out": _keys(
        "Opted Out", "Opt Out", "Opt-Out", "DNC", "Do Not Call", "DoNotCall", "Unsubscribed",
        "DND", "Do Not Disturb", "Do Not Contact", "SMS Opt Out", "SMS Opted Out", "Call Opt Out",
        "Phone Opt Out",
    ),
    "notes": _keys(
        "Notes", "Note", "Description", "Comments", "Comment", "Remarks", "Notizen", "Notiz",
        "Bemerkung", "Bemerkungen", "Anmerkungen", "Kommentar", "Remarques", "Commentaire",
        "Notas", "Comentarios", "Observaciones",
    ),
    "external_id": _keys(
        "External ID", "ID", "Record ID", "Contact ID", "Contact Id", "Customer ID", "UID",
    ),
    "country": _keys(
        "Country", "Country Code", "Mailing Country", "Country/Region", "Address 1 - Country",
        "Business Country/Region", "Home Country/Region", "Other Country/Region", "Country Name",
        "Land", "País", "Pays", "CC",
    ),
}  # fmt: skip

_PHONE_WORDS: Final = frozenset(
    {"phone", "mobile", "mobil", "cell", "cellphone", "cellular", "celular", "tel",
     "telephone", "telefon", "telefono", "handy", "movil", "portable", "whatsapp",
     "msisdn", "phonenumber", "mobilephone", "telefonnummer"}
)  # fmt: skip
_NOT_A_NUMBER: Final = frozenset(
    {"type", "label", "ext", "extension", "opt", "opted", "optout", "optin", "dnc",
     "status", "verified", "valid", "validated", "country", "code", "carrier", "consent",
     "count", "preference", "preferred", "kind", "id", "source", "date", "time", "format",
     "call", "calls", "called", "last", "attempts", "duration", "minutes", "is", "has",
     "app", "device", "os", "model", "brand", "provider", "network", "region", "prefix",
     "linetype", "owner", "confirmed", "bounced"}
)  # fmt: skip
_EMAIL_MARKERS: Final = frozenset(
    {"type", "label", "opt", "opted", "optout", "optin", "unsubscribed", "bounce",
     "bounced", "status", "verified", "valid", "consent", "domain", "count", "format",
     "permission", "subscribed", "subscription", "date"}
)  # fmt: skip

#: Phone preference groups: (rank, words); a column's rank is its first group's.
_PHONE_RANKS: Final[tuple[tuple[int, frozenset[str]], ...]] = (
    (0, frozenset({"mobile", "mobil", "cell", "cellphone", "cellular", "celular", "handy",
                   "movil", "portable", "whatsapp", "msisdn", "mobilephone"})),
    (4, frozenset({"other", "assistant", "assistants", "asst", "car", "radio", "tty", "tdd",
                   "callback", "pager", "alternate", "alt", "secondary", "spouse",
                   "emergency", "fax"})),
    (2, frozenset({"work", "business", "office", "company", "job", "arbeit", "trabajo",
                   "bureau", "main", "corporate"})),
    (3, frozenset({"home", "private", "privat", "residence", "house", "casa", "personal",
                   "landline", "maison"})),
)  # fmt: skip
_GENERIC_RANK: Final = 1


def _phone_like(header: str) -> bool:
    ws = set(words(header))
    return key(header) in ALIASES[PHONE] or bool(ws & _PHONE_WORDS and not ws & _NOT_A_NUMBER)


def _phone_rank(header: str) -> int:
    ws = set(words(header))
    for rank, group in _PHONE_RANKS:
        if ws & group:
            return rank
    return _GENERIC_RANK


def _fuzzy(fieldname: str, header: str) -> bool:
    """Tier 3: word rules for the fields that have one."""
    k, ws = key(header), set(words(header))
    if fieldname == "email":
        return ("email" in k or "mail" in ws) and not ws & _EMAIL_MARKERS
    if fieldname in ("first_name", "last_name"):
        return fieldname.replace("_", "") in k
    if fieldname == "country":
        return bool(ws & {"country", "land", "pais", "pays"}) and not ws & {
            "phone",
            "calling",
            "dial",
            "dialing",
            "tel",
        }
    return False


def _tier(fieldname: str, header: str) -> int | None:
    if key(header) == key(fieldname):
        return 1
    if key(header) in ALIASES.get(fieldname, frozenset()):
        return 2
    if _fuzzy(fieldname, header):
        return 3
    return None


def _metadata_key(column: str) -> str | None:
    if column[: len(METADATA_PREFIX)].lower() == METADATA_PREFIX:
        name = column[len(METADATA_PREFIX) :].strip()
        return name or None
    return None


# -- map_columns ---------------------------------------------------------------------


def map_columns(
    columns: list[str],
    overrides: Mapping[str, str] | None = None,
    phone_preference: Sequence[str] | None = None,
) -> ColumnMapping:
    """Decide the column of every field; raises InputError when there is no phone column.

    ``columns`` are the raw frame's column names (a ``row`` column is ignored).
    """
    columns = [c for c in columns if c != ROW]
    chosen = _resolve_overrides(columns, overrides or {})
    claimed = {c for c in chosen.values() if c}
    free = [c for c in columns if c not in claimed]

    metadata = {k[len(METADATA_PREFIX) :]: c for k, c in chosen.items() if _is_metadata(k) and c}
    for column in free:
        meta = _metadata_key(column)
        if meta is not None:
            metadata.setdefault(meta, column)
    used = claimed | set(metadata.values())
    free = [c for c in free if c not in used]

    phone_columns, phone_guessed = _phone_columns(columns, free, chosen, phone_preference)
    free = [c for c in free if c not in phone_columns]

    fields: dict[str, str] = {}
    guessed: dict[str, str] = {}
    if phone_columns:
        fields[PHONE] = phone_columns[0]
        if phone_guessed:
            guessed[PHONE] = phone_columns[0]
    for name in CANONICAL_FIELDS:
        if name == PHONE:
            continue
        if name in chosen:
            if chosen[name]:
                fields[name] = chosen[name]
            continue
        best = _best_column(name, free)
        if best is not None:
            column, tier = best
            fields[name] = column
            free.remove(column)
            if tier > 1:
                guessed[name] = column
    if not phone_columns:
        raise InputError(_no_phone_message(columns))
    return ColumnMapping(
        fields=fields, phone_columns=phone_columns, metadata=metadata, guessed=guessed
    )


def _is_metadata(name: str) -> bool:
    return name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX)


def _best_column(fieldname: str, candidates: Iterable[str]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for column in candidates:
        tier = _tier(fieldname, column)
        if tier is not None and (best is None or tier < best[1]):
            best = (column, tier)
    return best


def _phone_columns(
    columns: list[str],
    free: list[str],
    chosen: Mapping[str, str],
    preference: Sequence[str] | None,
) -> tuple[list[str], bool]:
    """(candidates in preference order, whether they were guessed)."""
    if PHONE in chosen:
        return ([chosen[PHONE]] if chosen[PHONE] else []), False
    auto = [c for c in free if _phone_like(c)]
    auto.sort(key=_phone_rank)  # stable: file order within a rank
    preferred = [_find_column(columns, c, "phone preference") for c in preference or ()]
    ordered = list(dict.fromkeys(preferred + auto))
    exact = bool(ordered) and key(ordered[0]) == PHONE
    return ordered, not (exact or bool(preferred))


def _resolve_overrides(columns: list[str], overrides: Mapping[str, str]) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, column in overrides.items():
        fieldname = name.strip()
        if fieldname not in CANONICAL_FIELDS and not _is_metadata(fieldname):
            raise InputError(
                f"--map {name}=...: unknown field {name!r}; the fields are: "
                + ", ".join(CANONICAL_FIELDS)
                + f", or {METADATA_PREFIX}KEY for a metadata entry"
            )
        resolved[fieldname] = (
            _find_column(columns, column, f"--map {fieldname}={column}") if column else ""
        )
    return resolved


def _find_column(columns: list[str], wanted: str, option: str) -> str:
    if wanted in columns:
        return wanted
    folded = [c for c in columns if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    folded = [c for c in columns if c.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    quoted = [c for c in columns if c == "'" + wanted and wanted.startswith(tuple("=+-@"))]
    if len(quoted) == 1:  # the header as a rejects file writes it (a formula neutralised)
        return quoted[0]
    raise InputError(
        f"{option}: the file has no column {wanted!r}; its columns are: " + _quoted(columns)
    )


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(repr(c) for c in columns) or "(none)"


def _no_phone_message(columns: list[str]) -> str:
    return (
        f"no phone column found among: {_quoted(columns)}. Name the column with --map phone=COLUMN"
    )


# -- to_contact_frame ----------------------------------------------------------------


def to_contact_frame(table: RawTable, mapping: ColumnMapping) -> pl.DataFrame:
    """row, phone_input, phone_column, every other canonical field, metadata.KEY columns."""
    col = _columns(table.frame)
    phone_input, phone_column = _phone_choice(table.frame.columns, mapping, col)
    exprs: list[pl.Expr] = [
        col(ROW).cast(pl.Int64),
        phone_input.cast(pl.String).alias(PHONE_INPUT),
        phone_column.cast(pl.String).alias(PHONE_COLUMN),
    ]
    for name in CANONICAL_FIELDS:
        if name == PHONE:
            continue
        column = mapping.fields.get(name)
        if name == "country" and column:
            value = _country_column(table.frame, col(column))
        else:
            value = _clean(col(column)) if column else pl.lit(None, dtype=pl.String)
        exprs.append(value.alias(name))
    for meta, column in mapping.metadata.items():
        exprs.append(_clean(col(column)).alias(METADATA_PREFIX + meta))
    return table.frame.select(exprs)


def _phone_choice(
    columns: list[str], mapping: ColumnMapping, col: Callable[[str], pl.Expr]
) -> tuple[pl.Expr, pl.Expr]:
    """(the chosen cell, its column name): the non-empty candidate with the lowest key.

    The key is the candidate's place in ``phone_columns``; when the phone columns were
    guessed, a candidate's label column (Google's ``Phone 2 - Label`` = ``Mobile``)
    ranks it first by the label's kind, row by row.
    """
    candidates = mapping.phone_columns
    if not candidates:
        none = pl.lit(None, dtype=pl.String)
        return none, none
    slots = len(candidates)

    def present(name: str) -> pl.Expr:
        return (col(name).str.strip_chars().str.len_chars() > 0).fill_null(False)

    if slots == 1:  # nothing to rank (and the ranking costs some 25 ms a 336k-row piece)
        only = candidates[0]
        return pl.when(present(only)).then(col(only)), pl.when(present(only)).then(pl.lit(only))
    by_kind = PHONE in mapping.guessed  # else the order was given: keep it
    keys = []
    for position, name in enumerate(candidates):
        label = _label_column(name, columns) if by_kind else None
        kind = _phone_rank(name) if by_kind else 0
        rank = _label_rank(col(label), kind) if label else pl.lit(kind, dtype=pl.Int64)
        keys.append(pl.when(present(name)).then(rank * slots + position))
    best = pl.min_horizontal(keys)
    chosen = [pl.when(k == best).then(col(c)) for k, c in zip(keys, candidates, strict=True)]
    named = [pl.when(k == best).then(pl.lit(c)) for k, c in zip(keys, candidates, strict=True)]
    return pl.coalesce(chosen), pl.coalesce(named)


def _label_column(value_column: str, columns: list[str]) -> str | None:
    """``Phone 2 - Label`` (or ``- Type``) for ``Phone 2 - Value``."""
    ws = words(value_column)
    if len(ws) < 2 or ws[-1] != "value":
        return None
    stem = "".join(ws[:-1])
    return next((c for c in columns if key(c) in (stem + "label", stem + "type")), None)


def _label_rank(label: pl.Expr, default: int) -> pl.Expr:
    """The phone kind a label names (see ``_PHONE_RANKS``); ``default`` when none."""
    text = label.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    rank: pl.Expr = pl.lit(default, dtype=pl.Int64)
    for group_rank, group in reversed(_PHONE_RANKS):  # the first group that matches wins
        pattern = r"(?:^|[^a-z])(?:" + "|".join(sorted(group)) + r")(?:[^a-z]|$)"
        names = text.str.contains(pattern).fill_null(False)
        rank = pl.when(names).then(pl.lit(group_rank, dtype=pl.Int64)).otherwise(rank)
    return rank


def _columns(frame: pl.DataFrame) -> Callable[[str], pl.Expr]:
    """Column by exact name: ``pl.col`` would read ``*`` or ``^...$`` as a pattern."""
    positions = {name: i for i, name in enumerate(frame.columns)}

    def col(name: str) -> pl.Expr:
        if name not in positions:
            raise InputError(f"the mapping names a column the file lacks: {name!r}")
        return pl.nth(positions[name])

    return col


def _clean(cell: pl.Expr) -> pl.Expr:
    stripped = cell.cast(pl.String).str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped).otherwise(None)


def _country_column(frame: pl.DataFrame, cell: pl.Expr) -> pl.Expr:
    """``country_code`` of a column, worked out once per distinct cell (a file names a
    few hundred countries at most) and mapped back to the rows."""
    distinct = frame.select(cell.cast(pl.String).unique().drop_nulls().alias("cell"))
    codes = distinct.select(country_code(_clean(pl.col("cell")))).to_series()
    return cell.cast(pl.String).replace_strict(
        distinct.to_series(), codes, default=None, return_dtype=pl.String
    )


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


def _country_table() -> dict[str, str]:
    import phonenumbers

    table = {region.lower(): region for region in phonenumbers.SUPPORTED_REGIONS}
    table.update(COUNTRY_NAMES)
    return table


_COUNTRIES: Final = _country_table()


def country_code(value: pl.Expr) -> pl.Expr:
    """ISO alpha-2 for a code or a known country name; null when unknown."""
    normalized = value.str.normalize("NFKD").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
    return normalized.replace_strict(_COUNTRIES, default=None, return_dtype=pl.String)
