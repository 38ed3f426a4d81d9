"""The canonical contact fields (interface.md, "Field names")."""

from __future__ import annotations

from typing import Final

PHONE: Final = "phone"

#: Every canonical field, in the order the contact frame carries them.
CANONICAL_FIELDS: Final[tuple[str, ...]] = (
    "phone",
    "first_name",
    "last_name",
    "name",
    "email",
    "company",
    "timezone",
    "language",
    "tags",
    "lists",
    "opted_out",
    "notes",
    "external_id",
    "country",
)

#: Fields that hold a list; in a CSV cell the items are separated by ``;`` or ``,``.
LIST_FIELDS: Final[frozenset[str]] = frozenset({"tags", "lists"})

#: A column named ``metadata.KEY`` (or mapped so) becomes ``metadata[KEY]``.
METADATA_PREFIX: Final = "metadata."

#: The 1-based record number every frame carries from the reader to the report.
ROW: Final = "row"
