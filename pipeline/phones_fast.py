"""A vectorized E.164 fast path that agrees with phonenumbers, or defers to it.

Everything country-specific here is read at run time from phonenumbers' own metadata
(``PhoneMetadata``): country calling codes, international dialling prefixes, national
prefixes for parsing and their transform rules, possible lengths, number-type patterns and
leading digits. No country rule is written by hand. The steps mirror
``phonenumberutil.parse`` + ``is_valid_number`` over a whole column:

1. *tokenize* (per row): accept only a conservative grammar (an optional label such as
   ``tel:``, ``+``, ASCII digits, the punctuation phonenumbers strips, an optional ``x``/
   ``ext`` extension); split it into ``plus`` and the digit string ``d``;
2. *country code*: a leading ``+`` takes the country code by the 1-to-3-digit prefix rule;
   otherwise the default region's international prefix, then the rule "the number starts
   with the region's own country code";
3. *national prefix*: stripped (or transformed) only when phonenumbers would keep the
   result, i.e. when the length check on it accepts it;
4. *validity*: the national number must match a number-type pattern of the region that
   owns it among those sharing the calling code (chosen by leading digits).

Each row ends ``valid`` (with its E.164), ``invalid`` (with a reason) or ``defer``: anything
outside the grammar (letters, unusual unicode, ``;`` parameters, very long digit runs) or
whose metadata uses a feature this module does not translate is left to phonenumbers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, phonenumberutil

VALID = "valid"
INVALID = "invalid"
DEFER = "defer"

_MIN_NSN = phonenumberutil._MIN_LENGTH_FOR_NSN
_MAX_NSN = phonenumberutil._MAX_LENGTH_FOR_NSN
_MAX_INPUT = phonenumberutil._MAX_INPUT_STRING_LENGTH
_MAX_KEY_DIGITS = 32  # digits that fit the Int128 dedupe key below

# Punctuation phonenumbers ignores inside a number (a subset of its _VALID_PUNCTUATION).
_PUNCT = r" ()\-./\x{00A0}\x{2013}\x{2014}"
_EXTENSION = (
    r"(?:[ ]*(?i:x|ext|extn|extension)[:.]?[ \-]*[0-9]{1,6})?"  # "x12", " ext. 345"
)
# prefix without digits/plus/';' (phonenumbers drops it) + main part + extension + trailer.
_GRAMMAR = (
    r"^[^\d+\x{FF0B};]*"
    rf"(\+*[{_PUNCT}]*[0-9](?:[0-9{_PUNCT}]*[0-9])?)"
    rf"{_EXTENSION}[{_PUNCT}]*$"
)

# ----------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Meta:
    """One region's (or non-geographic entity's) metadata, as polars regex sources."""

    key: str
    cc: int
    idd: str | None
    npfp: str | None
    npfp_groups: int
    transform: str | None
    general: str | None
    lengths: frozenset[int]
    local_lengths: frozenset[int]
    max_length: int
    valid_general: str | None
    valid_types: str | None
    leading_digits: str | None
    supported: bool


@dataclass(frozen=True)
class Rules:
    """Everything the fast path needs, compiled once per process."""

    metas: dict[str, Meta]
    cc_pattern: str
    cc_main_key: dict[int, str]
    cc_keys: dict[int, tuple[str, ...]]


def _rx(pattern: str) -> str:
    """A metadata regex as a polars (Rust) regex: ASCII digits only, smaller automata."""
    return pattern.replace("\\d", "[0-9]")


def _transform(rule: str | None) -> tuple[str | None, bool]:
    """``\\1``-style rule → polars ``${1}``; (None, True) when absent; ok=False if unknown."""
    if not rule:
        return None, True
    if not re.fullmatch(r"(?:[0-9]|\\[1-9])*", rule):
        return None, False
    return re.sub(r"\\([1-9])", r"${\1}", rule), True


def _length_alternatives(lengths: frozenset[int]) -> str:
    return "|".join(f"{n:02d}" for n in sorted(lengths))


def _desc_source(desc: phonenumbers.PhoneNumberDesc | None) -> str | None:
    """Regex over "LL" + number (LL = 2-digit length) for _is_number_matching_desc."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = frozenset(n for n in desc.possible_length if 0 < n < 100)
    if desc.possible_length and not lengths:
        return None
    prefix = f"(?:{_length_alternatives(lengths)})" if desc.possible_length else "[0-9]{2}"
    return f"{prefix}(?:{_rx(desc.national_number_pattern)})"


def _type_descs(meta: PhoneMetadata) -> list[phonenumbers.PhoneNumberDesc | None]:
    """The descs _number_type_helper tries after the general one."""
    descs = [
        meta.premium_rate,
        meta.toll_free,
        meta.shared_cost,
        meta.voip,
        meta.personal_number,
        meta.pager,
        meta.uan,
        meta.voicemail,
        meta.fixed_line,
    ]
    if not meta.same_mobile_and_fixed_line_pattern:
        descs.append(meta.mobile)
    return descs


def _anchored_union(parts: list[str | None]) -> str | None:
    present = [p for p in parts if p is not None]
    return f"^(?:{'|'.join(present)})$" if present else None


def _compile_meta(key: str, meta: PhoneMetadata) -> Meta:
    general = meta.general_desc
    assert general is not None and meta.country_code is not None
    lengths = frozenset(general.possible_length)
    transform, transform_ok = _transform(meta.national_prefix_transform_rule)
    npfp = meta.national_prefix_for_parsing or None
    return Meta(
        key=key,
        cc=meta.country_code,
        idd=_rx(meta.international_prefix) if meta.international_prefix else None,
        npfp=_rx(npfp) if npfp else None,
        npfp_groups=re.compile(npfp).groups if npfp else 0,
        transform=transform,
        general=_rx(general.national_number_pattern)
        if general.national_number_pattern
        else None,
        lengths=lengths,
        local_lengths=frozenset(general.possible_length_local_only),
        max_length=max(lengths, default=0),
        valid_general=_anchored_union([_desc_source(general)]),
        valid_types=_anchored_union([_desc_source(d) for d in _type_descs(meta)]),
        leading_digits=_rx(meta.leading_digits) if meta.leading_digits is not None else None,
        supported=transform_ok and bool(lengths) and min(lengths) > 0,
    )


def _meta_key(cc: int, region: str) -> str:
    return f"+{cc}" if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY else region


def _load(cc: int, region: str) -> PhoneMetadata | None:
    return PhoneMetadata.metadata_for_region_or_calling_code(cc, region)


@functools.cache
def rules() -> Rules:
    """Compile phonenumbers' metadata once per process."""
    metas: dict[str, Meta] = {}
    cc_keys: dict[int, tuple[str, ...]] = {}
    for cc, regions in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE.items():
        keys = []
        for region in regions:
            meta = _load(cc, region)
            if meta is not None:
                key = _meta_key(cc, region)
                metas[key] = _compile_meta(key, meta)
                keys.append(key)
        cc_keys[cc] = tuple(keys)
    codes = sorted(phonenumberutil.COUNTRY_CODE_TO_REGION_CODE, key=lambda c: (len(str(c)), c))
    return Rules(
        metas=metas,
        cc_pattern="^(?:" + "|".join(str(c) for c in codes) + ")",
        cc_main_key={cc: keys[0] for cc, keys in cc_keys.items() if keys},
        cc_keys=cc_keys,
    )


# ----------------------------------------------------------------------------- helpers


def _status(frame: pl.DataFrame, status: str, reason: str | None = None) -> pl.DataFrame:
    return frame.with_columns(
        status=pl.lit(status), reason=pl.lit(reason, dtype=pl.String), e164=pl.lit(None, pl.String)
    )


def _split(frame: pl.DataFrame, mask: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    return frame.filter(mask), frame.filter(~mask)


def _full_match(column: pl.Expr, pattern: str | None) -> pl.Expr:
    if pattern is None:
        return pl.lit(False)
    return column.str.contains(f"^(?:{pattern})$")


def _length_in(column: pl.Expr, lengths: frozenset[int]) -> pl.Expr:
    return column.str.len_bytes().is_in(sorted(lengths))


def _length_accepted(column: pl.Expr, meta: Meta) -> pl.Expr:
    """_test_number_length(...) in (IS_POSSIBLE, TOO_LONG): the prefix strip is kept."""
    n = column.str.len_bytes()
    local = n.is_in(sorted(meta.local_lengths))
    return ~local & (n.is_in(sorted(meta.lengths)) | (n > meta.max_length))


def _too_long(column: pl.Expr, meta: Meta) -> pl.Expr:
    n = column.str.len_bytes()
    return ~n.is_in(sorted(meta.local_lengths)) & (n > meta.max_length)


def _strip_national_prefix(frame: pl.DataFrame, source: str, meta: Meta) -> pl.Series:
    """_maybe_strip_national_prefix_carrier_code(frame[source], meta)[1], vectorized."""
    number = frame[source]
    if meta.npfp is None or frame.height == 0:
        return number
    prefix = f"^(?:{meta.npfp})"
    col = pl.col(source)
    matched = col.str.extract(prefix, 0)
    stripped = col.str.slice(matched.str.len_bytes())
    if meta.transform is not None:
        last_group = col.str.extract(prefix, meta.npfp_groups).is_not_null()
        candidate = pl.when(last_group).then(col.str.replace(prefix, meta.transform))
        stripped = candidate.otherwise(stripped)
    viable = _full_match(col, meta.general)
    keep = matched.is_null() | (col.str.len_bytes() == 0)
    keep = keep | (viable & ~_full_match(pl.col("_candidate"), meta.general))
    return (
        frame.select(col, stripped.alias("_candidate"))
        .select(pl.when(keep).then(col).otherwise(pl.col("_candidate")))
        .to_series()
        .alias(source)
    )


def _by_key(
    frame: pl.DataFrame, column: str, step: Callable[[pl.DataFrame, str], pl.DataFrame]
) -> pl.DataFrame:
    """Apply ``step`` to each group of rows sharing ``column``'s value; concat the results."""
    if frame.height == 0:
        return _status(frame, INVALID)
    parts = frame.partition_by(column, as_dict=True, maintain_order=False)
    return pl.concat([step(part, str(key[0])) for key, part in parts.items()], how="diagonal")


# ----------------------------------------------------------------------------- tokenize


def tokenize(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``plus`` (bool) and ``d`` (ASCII digits), null for rows outside the grammar."""
    main = pl.col("input").str.extract(_GRAMMAR, 1)
    short = pl.col("input").str.len_chars() <= _MAX_INPUT
    frame = frame.with_columns(_main=pl.when(short).then(main))
    return frame.with_columns(
        plus=pl.col("_main").str.starts_with("+"),
        d=pl.col("_main").str.replace_all("[^0-9]", ""),
    ).drop("_main")


# ----------------------------------------------------------------------------- country code


def _country_code(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """``cc`` (string, null if none) and ``nnn`` (the rest) by the 1-to-3-digit prefix rule."""
    cc = pl.col(source).str.extract(rules().cc_pattern, 0)
    return frame.with_columns(cc=cc, nnn=pl.col(source).str.slice(cc.str.len_bytes()))


def _with_main_key(frame: pl.DataFrame) -> pl.DataFrame:
    main = {str(cc): key for cc, key in rules().cc_main_key.items()}
    return frame.with_columns(mkey=pl.col("cc").replace_strict(main, default=None))


def _from_plus(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with a leading ``+``: (resolved rows, rows phonenumbers retries without '+')."""
    frame = _country_code(frame, "d")
    found, retry = _split(frame, frame["cc"].is_not_null())
    return _with_main_key(found), retry.drop("cc", "nnn")


def _national(part: pl.DataFrame, region: str) -> pl.DataFrame:
    """Rows without '+' for one default region: IDD, own country code, or national."""
    meta = rules().metas.get(region)
    if meta is None or len(region) != 2:
        return _status(part, INVALID, "invalid default region")
    if not meta.supported:
        return _status(part, DEFER)
    part = _strip_idd(part, meta)
    idd, rest = _split(part, part["idd"])
    return pl.concat(
        [_after_idd(idd.drop("idd")), _own_country_code(rest.drop("idd"), meta)],
        how="diagonal",
    )


def _strip_idd(part: pl.DataFrame, meta: Meta) -> pl.DataFrame:
    """_parse_prefix_as_idd: strip the IDD unless the next digit is a 0."""
    if meta.idd is None:
        return part.with_columns(idd=pl.lit(False), nnn=pl.col("d"))
    matched = pl.col("d").str.extract(f"^(?:{meta.idd})", 0)
    after = pl.col("d").str.slice(matched.str.len_bytes())
    stripped = matched.is_not_null() & ~after.str.starts_with("0")
    return part.with_columns(idd=stripped, nnn=pl.when(stripped).then(after).otherwise(pl.col("d")))


def _after_idd(frame: pl.DataFrame) -> pl.DataFrame:
    """After an IDD: too short → invalid; unknown country code → invalid."""
    too_short = frame["nnn"].str.len_bytes() <= _MIN_NSN
    short, frame = _split(frame, too_short)
    frame = _country_code(frame.with_columns(_x=pl.col("nnn")), "_x").drop("_x")
    found, unknown = _split(frame, frame["cc"].is_not_null())
    return pl.concat(
        [
            _status(short, INVALID, "too short after the international prefix"),
            _status(unknown, INVALID, "unknown country calling code"),
            _with_main_key(found),
        ],
        how="diagonal",
    )


def _own_country_code(frame: pl.DataFrame, meta: Meta) -> pl.DataFrame:
    """The default region's own country code written without '+', else a national number."""
    code = str(meta.cc)
    starts, national = _split(frame, frame["d"].str.starts_with(code))
    starts = starts.with_columns(_p=pl.col("d").str.slice(len(code)))
    starts = starts.with_columns(_p=_strip_national_prefix(starts, "_p", meta))
    wins = (
        ~_full_match(pl.col("d"), meta.general) & _full_match(pl.col("_p"), meta.general)
    ) | _too_long(pl.col("d"), meta)
    starts = starts.with_columns(_wins=wins)
    own, starts = _split(starts, starts["_wins"])
    own = own.with_columns(cc=pl.lit(code), nnn=pl.col("_p")).drop("_p", "_wins")
    national = pl.concat([national, starts.drop("_p", "_wins")], how="diagonal")
    retry, national = _split(national, national["retry"])
    national = national.with_columns(cc=pl.lit(code), nnn=pl.col("d"), mkey=pl.lit(meta.key))
    return pl.concat(
        [
            _with_main_key(own),
            national,
            _status(retry, INVALID, "unknown country calling code after '+'"),
        ],
        how="diagonal",
    )


# ----------------------------------------------------------------------------- validity


def _valid_for(frame: pl.DataFrame, meta: Meta) -> pl.Series:
    """_number_type_helper(nsn, meta) != UNKNOWN, over ``_lk`` = 2-digit length + nsn."""
    if meta.valid_general is None or meta.valid_types is None:
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    lk = pl.col("_lk")
    return frame.select(
        lk.str.contains(meta.valid_general) & lk.str.contains(meta.valid_types)
    ).to_series()


def _validity(frame: pl.DataFrame, cc: int) -> pl.Series:
    """is_valid_number: the region is chosen by leading digits among those of ``cc``."""
    frame = frame.with_columns(
        _lk=pl.concat_str(
            pl.col("nsn").str.len_bytes().cast(pl.String).str.zfill(2), pl.col("nsn")
        ),
        _i=pl.int_range(pl.len(), dtype=pl.UInt32),
    )
    metas = [rules().metas[k] for k in rules().cc_keys[cc]]
    if len(metas) == 1:
        return _valid_for(frame, metas[0])
    valid = pl.Series([False] * frame.height, dtype=pl.Boolean)
    pending = frame
    for meta in metas:
        if pending.height == 0:
            break
        if meta.leading_digits is not None:
            hit = pending["nsn"].str.contains(f"^(?:{meta.leading_digits})")
            chosen = pending.filter(hit)
            valid = valid.scatter(chosen["_i"], _valid_for(chosen, meta))
        else:
            hit = _valid_for(pending, meta)
            valid = valid.scatter(pending.filter(hit)["_i"], True)
        pending = pending.filter(~hit)
    return valid


def _finish(part: pl.DataFrame, mkey: str) -> pl.DataFrame:
    """National prefix, lengths and validity for rows whose metadata is ``mkey``."""
    meta = rules().metas[mkey]
    if not meta.supported:
        return _status(part, DEFER)
    short, part = _split(part, part["nnn"].str.len_bytes() < _MIN_NSN)
    part = part.with_columns(_p=_strip_national_prefix(part, "nnn", meta))
    nsn = pl.when(_length_accepted(pl.col("_p"), meta)).then("_p").otherwise("nnn")
    part = part.with_columns(nsn=nsn).drop("_p")
    length = part["nsn"].str.len_bytes()
    bad, part = _split(part, (length > _MAX_NSN) | (length < _MIN_NSN))
    part = part.with_columns(_valid=_validity(part, meta.cc))
    good, wrong = _split(part, part["_valid"])
    good = good.with_columns(
        status=pl.lit(VALID),
        reason=pl.lit(None, pl.String),
        e164=pl.concat_str(pl.lit(f"+{meta.cc}"), pl.col("nsn")),
    )
    return pl.concat(
        [
            _status(short, INVALID, "too short to be a phone number"),
            _status(bad, INVALID, "wrong number of digits"),
            _status(wrong, INVALID, f"not a valid number for {mkey}"),
            good,
        ],
        how="diagonal",
    ).drop("nsn", "_valid", strict=False)


# ----------------------------------------------------------------------------- entry point

_OUT = ["key", "status", "reason", "e164"]


def decide(keys: pl.DataFrame) -> pl.DataFrame:
    """``keys`` (key, region, plus, d) → (key, status, reason, e164)."""
    keys = keys.with_columns(retry=pl.lit(False))
    plus, national = _split(keys, keys["plus"])
    found, retry = _from_plus(plus)
    national = pl.concat([national, retry.with_columns(retry=pl.lit(True))], how="diagonal")
    sides = _by_key(national, "region", _national)
    resolved = pl.concat([found, sides], how="diagonal")
    done = resolved.filter(pl.col("status").is_not_null()).select(_OUT)
    todo = resolved.filter(pl.col("status").is_null())
    finished = _by_key(todo, "mkey", _finish).select(_OUT)
    return pl.concat([done, finished])


def _key(frame: pl.DataFrame) -> pl.Expr:
    """Exact Int128 key of (region, plus, digits) for rows with at most 32 digits."""
    digits = pl.col("d")
    value = digits.cast(pl.Int128) * 64 + digits.str.len_bytes().cast(pl.Int128)
    value = value * 2 + pl.col("plus").cast(pl.Int128)
    region = pl.col("region").str.to_integer(base=36, strict=False).cast(pl.Int128)
    return value * 2048 + region


def fast_e164(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """Per row: ``status`` (valid/invalid/defer), ``reason`` (invalid), ``e164`` (valid).

    ``regions`` holds the default region of every row (two upper-case letters expected).
    Equal (region, '+', digits) triples — hence equal inputs — are decided once.
    """
    frame = tokenize(pl.DataFrame({"input": phones.cast(pl.String), "region": regions}))
    ok = frame["d"].is_not_null() & (frame["d"].str.len_bytes() <= _MAX_KEY_DIGITS)
    ok = ok & (frame["d"].str.len_bytes() > _MIN_NSN)
    frame = frame.with_columns(key=pl.when(ok).then(_key(frame)))
    keys = frame.filter(pl.col("key").is_not_null()).unique("key").select(
        "key", "region", "plus", "d"
    )
    answers = decide(keys)
    joined = frame.join(answers, on="key", how="left", maintain_order="left")
    return _settle_rest(joined.select("input", "status", "reason", "e164"))


def _settle_rest(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows outside the grammar: invalid when phonenumbers surely rejects them, else defer.

    phonenumbers needs at least two decimal digits (``_VALID_PHONE_NUMBER``) and at most
    ``_MAX_INPUT_STRING_LENGTH`` characters; polars' ``\\d`` is a superset of Python's.
    """
    rows = frame.with_row_index("_i").filter(pl.col("status").is_null())
    text = pl.col("input")
    hopeless = (text.str.len_chars() > _MAX_INPUT) | (text.str.count_matches(r"\d") < _MIN_NSN)
    rows = rows.select(
        "_i",
        status=pl.when(hopeless).then(pl.lit(INVALID)).otherwise(pl.lit(DEFER)),
        reason=pl.when(hopeless).then(pl.lit("it is not a phone number")),
    )
    status = frame["status"].scatter(rows["_i"], rows["status"])
    reason = frame["reason"].scatter(rows["_i"], rows["reason"])
    return pl.DataFrame({"status": status, "reason": reason, "e164": frame["e164"]})
