"""The old home of the phone normalizer, kept so that ``pipeline.phones.normalize_phones``
goes on working: everything is in :mod:`pipeline.normalize.phones`."""

from __future__ import annotations

from pipeline.normalize.phones import (
    INVALID_PHONE,
    MISSING_PHONE,
    effective_regions,
    normalize_phones,
    reference_e164,
)

__all__ = [
    "INVALID_PHONE",
    "MISSING_PHONE",
    "effective_regions",
    "normalize_phones",
    "reference_e164",
]
