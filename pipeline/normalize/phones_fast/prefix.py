"""Step 3: the national prefix, stripped (or transformed) only when phonenumbers keeps
the result."""

from __future__ import annotations

import polars as pl
from phonenumbers import PhoneMetadata, phonenumberutil

import pipeline.normalize.phones_fast.frames as frames
from pipeline.normalize.phones_fast.compiled import Slot, rules
from pipeline.normalize.phones_fast.frames import length_of, on_code, put, run_columns, stack
from pipeline.normalize.phones_fast.routing import grown, routes


def _transformed(frame: pl.DataFrame, num: str, code: str) -> pl.DataFrame:
    """Regions with a transform rule: ``_cand`` (null where their prefix does not match).

    One keyed alternation holds every such region's prefix pattern, each in a group: the
    whole match gives the plain strip; the region's last group (captured only for its own
    rows) says whether phonenumbers applies the rule, and the rule's groups fill it in.
    """
    if frame.height == 0:
        return grown(frame, _cand=pl.String)
    r = rules()
    matched = on_code(code, num).str.extract(r.transform, 0)
    frame = frame.with_columns(_cand=pl.col(num).str.slice(length_of(matched) - 3))
    unmatched, matched_rows = routes(frame, pl.col("_cand").is_not_null(), 2)
    parts = [unmatched]
    for (slot_code,), rows in matched_rows.partition_by(code, as_dict=True).items():
        parts.append(_apply_rule(rows, num, code, r.slots[r.slot_codes.index(slot_code)]))
    return stack(parts)


def _apply_rule(frame: pl.DataFrame, num: str, code: str, slot: Slot) -> pl.DataFrame:
    """``_cand`` = the rule's expansion + the rest, where the slot's last group captured."""
    text = on_code(code, num)
    last = text.str.extract(rules().transform, slot.base + slot.groups)
    pieces = [
        pl.lit(p) if isinstance(p, str) else text.str.extract(rules().transform, slot.base + p)
        for p in slot.rule
    ]
    expansion = pl.concat_str([piece.fill_null("") for piece in pieces] + [pl.col("_cand")])
    return frame.with_columns(_cand=pl.when(last.is_not_null()).then(expansion).otherwise("_cand"))


def strip_national_prefix(frame: pl.DataFrame, num: str, code: str, out: str) -> pl.DataFrame:
    """Adds ``out`` = _maybe_strip_national_prefix_carrier_code(num, metadata of code)[1].

    Rows may come back in another order.
    """
    if frame.height == 0:
        return grown(frame, **{out: pl.String})
    if frame.height <= frames.FEW_STRIP and frame[num].null_count() + frame[code].null_count() == 0:
        return _stripped_by_phonenumbers(frame, num, code, out)
    r = rules()
    nonempty = length_of(num) > 0
    special = pl.col(code).is_in(r.slot_set) & nonempty
    plain, transform = routes(frame, special, 2)
    matched = length_of(on_code(code, num).str.extract(r.national_prefix, 0)) - 3
    plain = run_columns(plain, _cand=pl.when(nonempty).then(pl.col(num).str.slice(matched)))
    # Transform rules are rare: a few rows cost less row by row than in _transformed.
    few = transform.height <= frames.FEW_STRIP
    done = _stripped_by_phonenumbers(transform, num, code, out) if few else None
    found = plain if few else stack([plain, _transformed(transform, num, code)])
    kept, stripped = routes(found, pl.col("_cand").is_not_null(), 2)
    # Stripping is undone only when the number was viable and the rest is not.
    stripped, viable = routes(stripped, on_code(code, num).str.contains(r.general), 2)
    still = on_code(code, "_cand").str.contains(r.general)
    viable = run_columns(viable, _cand=pl.when(still).then("_cand").otherwise(num))
    kept = kept.with_columns(_cand=pl.col(num))
    found = stack([kept, stripped, viable]).rename({"_cand": out})
    return stack([found, done]) if done is not None else found


def _stripped_by_phonenumbers(frame: pl.DataFrame, num: str, code: str, out: str) -> pl.DataFrame:
    """strip_national_prefix row by row with phonenumbers itself (for few rows, no nulls)."""
    if frame.height == 0:
        return grown(frame, **{out: pl.String})
    metadata = rules().metadata
    pairs = zip(frame[num].to_list(), frame[code].to_list(), strict=True)
    stripped = [strip_one_prefix(text, metadata.get(c)) for text, c in pairs]
    return put(frame, pl.Series(out, stripped, dtype=pl.String))


def strip_one_prefix(number: str, metadata: PhoneMetadata | None) -> str:
    """phonenumbers' own _maybe_strip_national_prefix_carrier_code(number, metadata)[1];
    the number as it is for the codes the fast path does not translate (as above)."""
    if metadata is None:
        return number
    return str(phonenumberutil._maybe_strip_national_prefix_carrier_code(number, metadata)[1])
