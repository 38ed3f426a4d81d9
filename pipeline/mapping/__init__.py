"""Map CSV columns to the canonical contact fields, then build the contact frame.

``map_columns(columns)`` decides which column feeds which field; ``to_contact_frame``
applies the decision to a :class:`~pipeline.read.RawTable` in polars expressions. Their
modules: ``headers`` (what a header names: keys, aliases, word rules), ``columns`` (the
decision, :class:`ColumnMapping`), ``contact_frame`` (the contact frame).

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

    Another person's number is never the contact's by guess: a phone column whose header
    names someone else (``Mum-home-mobile``, ``Assistant's Phone``, ``Spouse Mobile``,
    ``Emergency Contact Phone``: ``headers.OTHER_PERSON``) is no candidate and is listed
    in ``others``, and a row's candidate whose label names someone else (``Phone 2 -
    Label`` = ``Mum``) is passed over in that row. The word rules (tier 3) skip such
    headers for every field (``Mum-email``, ``Mum's first name``). ``phone_reason`` says
    in words why the phone column is the one it is.

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

from pipeline.mapping.columns import ColumnMapping, map_columns
from pipeline.mapping.contact_frame import (
    OTHERS_COLUMN,
    PHONE_COLUMN,
    PHONE_INPUT,
    to_contact_frame,
)
from pipeline.mapping.headers import ALIASES, key, words

__all__ = [
    "ALIASES",
    "OTHERS_COLUMN",
    "PHONE_COLUMN",
    "PHONE_INPUT",
    "ColumnMapping",
    "key",
    "map_columns",
    "to_contact_frame",
    "words",
]
