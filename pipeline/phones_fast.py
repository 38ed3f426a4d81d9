"""A vectorized E.164 fast path that agrees with phonenumbers, or defers to it.

Everything country-specific is read at run time from phonenumbers' own metadata
(``PhoneMetadata``): country calling codes, international dialling prefixes, national
prefixes for parsing and their transform rules, possible lengths, number-type patterns and
leading digits. No country rule is written by hand. The steps mirror
``phonenumberutil.parse`` + ``is_valid_number`` over a whole column:

1. *tokenize* (per row): accept only a conservative grammar (an optional label such as
   ``tel:``, ``+``, ASCII digits, punctuation phonenumbers ignores, an optional ``x``/``ext``
   extension, which E.164 drops) and reduce it to ``plus`` and the digit string ``d``;
2. *country code*: after ``+``, the 1-to-3-digit prefix rule; otherwise the default region's
   international prefix, then "the number starts with the region's own country code";
3. *national prefix*: stripped (or transformed) only when phonenumbers keeps the result;
4. *validity*: the national number must match a number-type pattern of the region that owns
   it among those sharing the calling code (chosen by leading digits).

The per-region regexes of a step are joined into one alternation, each branch behind its
region's 3-digit code (``"044" + digits``), so a step is one regex pass over the column
however many regions it holds. Digits-only keys keep the lazy DFA's alphabet small (about
10x faster than letter keys on a mix of 250 regions), and the handful of large patterns stays
inside polars' compiled-regex cache (about 32 entries).

Each row ends ``valid`` (with its E.164), ``invalid`` (with a reason) or ``defer``: input
outside the grammar (letters, unusual unicode, ``;`` parameters, long digit runs) and
metadata features this module does not translate are left to phonenumbers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberDesc, phonenumberutil

VALID = "valid"
INVALID = "invalid"
DEFER = "defer"

_MIN_NSN = phonenumberutil._MIN_LENGTH_FOR_NSN
_MAX_NSN = phonenumberutil._MAX_LENGTH_FOR_NSN
_MAX_INPUT = phonenumberutil._MAX_INPUT_STRING_LENGTH
_MAX_DIGITS = 32  # digits that fit the exact Int128 dedupe key
_FLAGS = 64  # length flags kept per region (numbers here have at most _MAX_DIGITS digits)
_NEVER = "~"  # an alternation branch no digit string matches

# Punctuation phonenumbers strips inside a number: a subset of its _VALID_PUNCTUATION.
_PUNCT = r" ()\-./\x{00A0}\x{2013}\x{2014}"
# Characters phonenumbers drops before the first digit or '+', or after the last digit.
_EDGE = r"'\x22:\t"
_NOT_DIGITS = [" ", "(", ")", "-", ".", "/", "\u00a0", "\u2013", "\u2014", "'", '"', ":", "\t"]
# Extension labels phonenumbers knows (ASCII spellings only), 1-6 digits: E.164 drops them.
_LABEL = r"(?:[xX]|[eE][xX][tT](?:[eE][nN][sS][iI][oO][nN]|[nN])?)"
_EXTENSION = rf"(?:[ ]*{_LABEL}[:.]?[ \-]*[0-9]{{1,6}})?"
# An optional label (no digit, '+' or ';'), the number (group 1), an extension, a trailer.
_GRAMMAR = (
    rf"^[A-Za-z{_EDGE}{_PUNCT}]*"
    rf"(\+*[{_PUNCT}]*[0-9](?:[0-9{_PUNCT}]*[0-9])?)"
    rf"{_EXTENSION}[{_EDGE}{_PUNCT}]*$"
)

# ----------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Meta:
    """What the fast path needs of one region (or non-geographic entity)."""

    code: str
    cc: str
    idd: str | None
    npfp: str | None
    npfp_groups: int
    transform: tuple[str | int, ...] | None
    general: str | None
    valid_general: str | None
    valid_types: str | None
    leading_digits: str | None
    accept: str
    too_long: str
    supported: bool


@dataclass(frozen=True)
class Slot:
    """Where one region's national-prefix groups sit in the transform alternation."""

    code: str
    base: int
    groups: int
    rule: tuple[str | int, ...]


@dataclass(frozen=True)
class Rules:
    """Everything the fast path needs, compiled once per process."""

    region_code: dict[str, str]
    region_cc: dict[str, str]
    main_code: dict[str, str]
    slot_code: dict[str, str]
    positions: int
    single: list[str]
    unsupported: list[str]
    cc: str
    idd: str
    national_prefix: str
    transform: str
    slots: tuple[Slot, ...]
    general: str
    leading_digits: str
    has_leading_digits: dict[str, bool]
    valid_general: str
    valid_types: str
    accept: dict[str, str]
    too_long: dict[str, str]


def _rx(pattern: str) -> str:
    """A metadata regex as a polars (Rust) regex over ASCII digits (smaller automata)."""
    return pattern.replace("\\d", "[0-9]")


def _rule(rule: str | None, groups: int) -> tuple[tuple[str | int, ...] | None, bool]:
    """A transform rule as literal/group parts; ok=False when this module cannot apply it."""
    if not rule:
        return None, True
    if groups == 0 or not re.fullmatch(r"(?:[0-9]|\\[1-9])*", rule):
        return None, False
    parts = tuple(int(g) if g else lit for g, lit in re.findall(r"\\([1-9])|([0-9]+)", rule))
    return parts, all(p <= groups for p in parts if isinstance(p, int))


def _flags(test: Iterable[bool]) -> str:
    return "".join("1" if ok else "0" for ok in test)


def _length_flags(general: PhoneNumberDesc) -> tuple[str, str]:
    """_test_number_length(n, meta) per n: (IS_POSSIBLE or TOO_LONG, TOO_LONG) as '0'/'1'."""
    lengths, local = set(general.possible_length), set(general.possible_length_local_only)
    top = max(lengths, default=0)
    accept = _flags(n not in local and (n in lengths or n > top) for n in range(_FLAGS))
    too_long = _flags(n not in local and n > top for n in range(_FLAGS))
    return accept, too_long


def _desc_source(desc: PhoneNumberDesc | None) -> str | None:
    """_is_number_matching_desc as a regex over "LL" + number (LL: 2-digit length)."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = sorted(n for n in desc.possible_length if 0 < n < 100)
    if desc.possible_length and not lengths:
        return None
    prefix = "|".join(f"{n:02d}" for n in lengths) if lengths else "[0-9]{2}"
    return f"(?:{prefix})(?:{_rx(desc.national_number_pattern)})"


def _type_descs(meta: PhoneMetadata) -> list[PhoneNumberDesc | None]:
    """The descs _number_type_helper tries after the general one (any match: valid)."""
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


def _union(parts: Iterable[str | None]) -> str | None:
    present = [p for p in parts if p is not None]
    return "|".join(present) if present else None


def _compile_meta(code: str, meta: PhoneMetadata) -> Meta:
    general = meta.general_desc
    assert general is not None and meta.country_code is not None
    npfp = meta.national_prefix_for_parsing or None
    groups = re.compile(npfp).groups if npfp else 0
    transform, transform_ok = _rule(meta.national_prefix_transform_rule, groups)
    accept, too_long = _length_flags(general)
    lengths_ok = bool(general.possible_length) and min(general.possible_length) > 0
    return Meta(
        code=code,
        cc=str(meta.country_code),
        idd=_rx(meta.international_prefix) if meta.international_prefix else None,
        npfp=_rx(npfp) if npfp else None,
        npfp_groups=groups,
        transform=transform,
        general=_rx(general.national_number_pattern) if general.national_number_pattern else None,
        valid_general=_desc_source(general),
        valid_types=_union(_desc_source(d) for d in _type_descs(meta)),
        leading_digits=_rx(meta.leading_digits) if meta.leading_digits is not None else None,
        accept=accept,
        too_long=too_long,
        supported=transform_ok and lengths_ok,
    )


def _keyed(branches: dict[str, str | None], suffix: str = "") -> str:
    """One alternation: a code + that code's pattern; codes sharing a pattern share a branch."""
    by_pattern: dict[str, list[str]] = {}
    for code, pattern in branches.items():
        if pattern is not None:
            by_pattern.setdefault(pattern, []).append(code)
    alts = [f"(?:{'|'.join(codes)})(?:{p})" for p, codes in by_pattern.items()]
    return f"^(?:{'|'.join(alts) or _NEVER}){suffix}"


def _transform_alternation(metas: Iterable[Meta]) -> tuple[str, tuple[Slot, ...]]:
    """National-prefix patterns of the regions with a transform rule, each in a group."""
    alts, slots, base = [], [], 1
    for meta in metas:
        if meta.transform is None or meta.npfp is None or not meta.supported:
            continue
        alts.append(f"{meta.code}((?:{meta.npfp}))")
        slots.append(Slot(meta.code, base, meta.npfp_groups, meta.transform))
        base += 1 + meta.npfp_groups
    return f"^(?:{'|'.join(alts) or _NEVER})", tuple(slots)


def _all_metas() -> tuple[dict[str, Meta], dict[str, str], dict[str, tuple[str, ...]]]:
    """(code → Meta, region → code, calling code → codes of its regions, in order)."""
    found: list[tuple[int, str, PhoneMetadata]] = []
    for cc, regions in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
            if meta is not None:
                found.append((cc, region, meta))
    metas: dict[str, Meta] = {}
    region_code: dict[str, str] = {}
    cc_codes: dict[str, list[str]] = {}
    for i, (cc, region, meta) in enumerate(found):
        code = f"{i:03d}"
        metas[code] = _compile_meta(code, meta)
        cc_codes.setdefault(str(cc), []).append(code)
        if region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            region_code[region] = code
    return metas, region_code, {cc: tuple(codes) for cc, codes in cc_codes.items()}


@functools.cache
def rules() -> Rules:
    """Compile phonenumbers' metadata into keyed polars regexes, once per process."""
    metas, region_code, cc_codes = _all_metas()
    codes = sorted(phonenumberutil.COUNTRY_CODE_TO_REGION_CODE, key=lambda c: (len(str(c)), c))
    transform, slots = _transform_alternation(metas.values())
    geo = {code: metas[code] for code in region_code.values()}
    return Rules(
        region_code=region_code,
        region_cc={region: metas[code].cc for region, code in region_code.items()},
        main_code={cc: found[0] for cc, found in cc_codes.items()},
        slot_code={f"{cc}:{i}": c for cc, found in cc_codes.items() for i, c in enumerate(found)},
        positions=max(len(found) for found in cc_codes.values()),
        single=sorted(cc for cc, found in cc_codes.items() if len(found) == 1),
        unsupported=sorted(code for code, m in metas.items() if not m.supported),
        cc="^(?:" + "|".join(str(c) for c in codes) + ")",
        idd=_keyed({code: m.idd for code, m in geo.items()}),
        national_prefix=_keyed({c: m.npfp if m.transform is None else None for c, m in metas.items()}),
        transform=transform,
        slots=slots,
        general=_keyed({code: m.general for code, m in metas.items()}, "$"),
        leading_digits=_keyed({code: m.leading_digits for code, m in metas.items()}),
        has_leading_digits={code: m.leading_digits is not None for code, m in metas.items()},
        valid_general=_keyed({code: m.valid_general for code, m in metas.items()}, "$"),
        valid_types=_keyed({code: m.valid_types for code, m in metas.items()}, "$"),
        accept={code: m.accept for code, m in metas.items()},
        too_long={code: m.too_long for code, m in metas.items()},
    )


# ----------------------------------------------------------------------------- helpers


def _on(code: str | pl.Expr, value: str | pl.Expr) -> pl.Expr:
    """The string a keyed regex runs on: the 3-digit code, then the digits."""
    return pl.concat_str(pl.col(code) if isinstance(code, str) else code, value)


def _len(column: str | pl.Expr) -> pl.Expr:
    column = pl.col(column) if isinstance(column, str) else column
    return column.str.len_bytes().cast(pl.Int64)


def _flag(table: dict[str, str], code: str, length: pl.Expr) -> pl.Expr:
    """table[code][length] == '1' (per-region length tests without a regex)."""
    flags = pl.col(code).replace_strict(table, default="", return_dtype=pl.String)
    return flags.str.slice(length, 1) == "1"


def _run(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """with_columns on the streaming engine: whole-column regex work on both cores."""
    return frame.lazy().with_columns(**columns).collect(engine="streaming")


def _index(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("_i", strict=False).with_row_index("_i")


def _scatter(frame: pl.DataFrame, part: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Write ``part``'s ``columns`` into ``frame`` at the positions ``part['_i']``."""
    if part.height == 0:
        return frame
    updates = {}
    for name in columns:
        base = frame[name] if name in frame.columns else pl.Series(name, [None] * frame.height)
        updates[name] = base.cast(part[name].dtype).scatter(part["_i"], part[name])
    return frame.with_columns(**updates)


# ----------------------------------------------------------------------------- tokenize


def _digits(text: pl.Expr) -> pl.Expr:
    """The ASCII digits of text made only of digits, '+' and _NOT_DIGITS characters."""
    strip = [*_NOT_DIGITS, "+"]
    return text.str.replace_many(strip, [""] * len(strip))


def tokenize(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """``input``, ``region``, ``plus`` and ``d`` (ASCII digits; null outside the grammar)."""
    frame = pl.DataFrame({"input": phones.cast(pl.String), "region": regions.cast(pl.String)})
    text = pl.col("input")
    ok = (text.str.len_chars() <= _MAX_INPUT) & text.str.contains(_GRAMMAR)
    frame = _index(
        _run(
            frame,
            _ok=ok,
            _alpha=text.str.contains("[A-Za-z]"),
            plus=text.str.contains("+", literal=True),
            d=_digits(text),
        )
    )
    # A letter may start an extension, whose digits E.164 drops: take the number's group.
    lettered = frame.filter(pl.col("_ok") & pl.col("_alpha"))
    number = pl.col("input").str.extract(_GRAMMAR, 1)
    lettered = lettered.with_columns(d=_digits(number))
    frame = _scatter(frame, lettered, ["d"])
    return frame.select(
        "input", "region", "plus", d=pl.when("_ok").then("d").otherwise(pl.lit(None, pl.String))
    )


def _key() -> pl.Expr:
    """Exact Int128 key of (region, plus, digits) for 3 to 32 digits; null otherwise."""
    digits = pl.col("d")
    fits = digits.str.len_bytes().is_between(_MIN_NSN + 1, _MAX_DIGITS)
    value = digits.cast(pl.Int128, strict=False) * 64 + digits.str.len_bytes().cast(pl.Int128)
    value = value * 2 + pl.col("plus").cast(pl.Int128)
    region = pl.col("region").str.to_integer(base=36, strict=False).cast(pl.Int128)
    known = pl.col("region").str.contains("^[A-Z]{2}$")
    return pl.when(fits & known).then(value * 2048 + region)


# ----------------------------------------------------------------------------- national prefix


def _transformed(frame: pl.DataFrame, num: str, code: str) -> pl.DataFrame:
    """Rows of regions with a transform rule: ``_has`` (prefix matched) and ``_cand``."""
    r = rules()
    frame = frame.with_columns(_g=_on(code, pl.col(num)).str.extract_groups(r.transform))
    group = pl.col("_g").struct.field
    has, cand = pl.lit(False), pl.lit(None, pl.String)
    for slot in r.slots:
        mine = pl.col(code) == slot.code
        outer = group(str(slot.base))
        rest = pl.col(num).str.slice(outer.str.len_bytes())
        parts = [
            group(str(slot.base + p)).fill_null("") if isinstance(p, int) else pl.lit(p)
            for p in slot.rule
        ]
        last = group(str(slot.base + slot.groups))
        value = pl.when(last.is_not_null()).then(pl.concat_str([*parts, rest])).otherwise(rest)
        has = pl.when(mine).then(outer.is_not_null()).otherwise(has)
        cand = pl.when(mine).then(value).otherwise(cand)
    return frame.with_columns(_has=has, _cand=cand).drop("_g")


def strip_national_prefix(frame: pl.DataFrame, num: str, code: str) -> pl.Series:
    """_maybe_strip_national_prefix_carrier_code(frame[num], metadata of frame[code])[1]."""
    r = rules()
    frame = _index(frame.select(num, code))
    matched = _on(code, pl.col(num)).str.extract(r.national_prefix, 0)
    frame = frame.with_columns(
        _has=matched.is_not_null() & (_len(num) > 0),
        _cand=pl.col(num).str.slice(_len(matched) - 3),
    )
    special = frame.filter(pl.col(code).is_in([s.code for s in r.slots]) & (_len(num) > 0))
    frame = _scatter(frame, _transformed(special, num, code), ["_has", "_cand"])
    hits = frame.filter("_has")
    viable = _on(code, pl.col(num)).str.contains(r.general)
    still = _on(code, pl.col("_cand")).str.contains(r.general)
    frame = _scatter(frame, hits.with_columns(_has=~(viable & ~still)), ["_has"])
    return frame.select(pl.when("_has").then("_cand").otherwise(num)).to_series()


# ----------------------------------------------------------------------------- country code


def _own_country_code(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows starting with their default region's country code: does phonenumbers strip it?

    Adds ``_own`` (bool) and ``_p`` (the rest after national-prefix stripping).
    """
    r = rules()
    frame = frame.with_columns(_p=pl.col("d").str.slice(_len("rcc")))
    frame = frame.with_columns(_p=strip_national_prefix(frame, "_p", "rcode"))
    before = _on("rcode", pl.col("d")).str.contains(r.general)
    after = _on("rcode", pl.col("_p")).str.contains(r.general)
    too_long = _flag(r.too_long, "rcode", _len("d"))
    return frame.with_columns(_own=(~before & after) | too_long)


def _with_own(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(_own=pl.lit(False), _p=pl.lit(None, pl.String))
    candidates = frame.filter(
        pl.col("_ccp").is_null()
        & ~pl.col("_idd")
        & pl.col("rcode").is_not_null()
        & pl.col("d").str.starts_with(pl.col("rcc"))
        & ~pl.col("rcode").is_in(rules().unsupported)
    )
    return _scatter(frame, _own_country_code(candidates), ["_own", "_p"])


def _country_code(frame: pl.DataFrame) -> pl.DataFrame:
    """parse()'s country-code step: adds status/reason (if settled), cc, nnn, mkey."""
    r = rules()
    d, region = pl.col("d"), pl.col("region")
    rcode = region.replace_strict(r.region_code, default=None, return_dtype=pl.String)
    frame = frame.with_columns(
        rcode=rcode, rcc=region.replace_strict(r.region_cc, default=None, return_dtype=pl.String)
    )
    frame = _run(
        frame,
        _ccp=pl.when("plus").then(d.str.extract(r.cc, 0)),
        _iddm=_on("rcode", d).str.extract(r.idd, 0),
    )
    after = d.str.slice(_len("_iddm") - 3)
    national = pl.col("_ccp").is_null()
    idd = national & pl.col("_iddm").is_not_null() & ~after.str.starts_with("0")
    frame = frame.with_columns(_idd=idd, _after=after)
    frame = frame.with_columns(_cci=pl.when("_idd").then(pl.col("_after").str.extract(r.cc, 0)))
    return _resolve(_with_own(frame))


def _resolve(frame: pl.DataFrame) -> pl.DataFrame:
    r = rules()
    plus_ok = pl.col("_ccp").is_not_null()
    idd, own = pl.col("_idd"), pl.col("_own")
    idd_short = idd & (_len("_after") <= _MIN_NSN)
    status = (
        pl.when(plus_ok)
        .then(pl.lit(None, pl.String))
        .when(pl.col("rcode").is_null())
        .then(pl.lit(INVALID))
        .when(pl.col("rcode").is_in(r.unsupported))
        .then(pl.lit(DEFER))
        .when(idd_short | (idd & pl.col("_cci").is_null()))
        .then(pl.lit(INVALID))
        .when(idd | own)
        .then(pl.lit(None, pl.String))
        .when("plus")
        .then(pl.lit(INVALID))
    )
    reason = (
        pl.when(status.is_null() | (status == DEFER))
        .then(pl.lit(None, pl.String))
        .when(pl.col("rcode").is_null())
        .then(pl.lit("no valid default region"))
        .when(idd_short)
        .then(pl.lit("too short after the international prefix"))
        .otherwise(pl.lit("unknown country calling code"))
    )
    cc = pl.when(plus_ok).then("_ccp").when(idd).then("_cci").otherwise("rcc")
    nnn = (
        pl.when(plus_ok)
        .then(pl.col("d").str.slice(_len("_ccp")))
        .when(idd)
        .then(pl.col("_after").str.slice(_len("_cci")))
        .when(own)
        .then("_p")
        .otherwise("d")
    )
    frame = frame.with_columns(status=status, reason=reason, cc=cc, nnn=nnn)
    main = pl.col("cc").replace_strict(r.main_code, default=None, return_dtype=pl.String)
    mkey = pl.when(plus_ok | idd | own).then(main).otherwise("rcode")
    return frame.select("key", "status", "reason", "cc", "nnn", mkey=mkey)


# ----------------------------------------------------------------------------- validity


def _valid_for(code: pl.Expr) -> pl.Expr:
    """_number_type_helper(nsn, metadata of code) != UNKNOWN, over ``_lk`` (length + nsn)."""
    r = rules()
    text = _on(code, pl.col("_lk"))
    return text.str.contains(r.valid_general) & text.str.contains(r.valid_types)


def _chosen(code: pl.Expr) -> pl.Expr:
    """Does _region_code_for_number_from_list stop at this region? (``_v`` already set)."""
    r = rules()
    has_ld = code.replace_strict(r.has_leading_digits, default=False, return_dtype=pl.Boolean)
    ld_hit = _on(code, pl.col("nsn")).str.contains(r.leading_digits)
    return pl.col("cc").is_in(r.single) | pl.when(has_ld).then(ld_hit).otherwise(pl.col("_v"))


def _validity(frame: pl.DataFrame) -> pl.Series:
    """is_valid_number: the region is chosen by leading digits among those sharing ``cc``."""
    r = rules()
    lk = pl.concat_str(_len("nsn").cast(pl.String).str.zfill(2), pl.col("nsn"))
    pending = _index(frame.select("cc", "nsn")).with_columns(_lk=lk)
    valid = pl.Series("valid", [False] * frame.height)
    for position in range(r.positions):
        slot = pl.concat_str(pl.col("cc"), pl.lit(f":{position}"))
        code = slot.replace_strict(r.slot_code, default=None, return_dtype=pl.String)
        pending = pending.with_columns(_k=code).filter(pl.col("_k").is_not_null())
        if pending.height == 0:
            break
        pending = _run(pending, _v=_valid_for(pl.col("_k")))
        pending = _run(pending, _hit=_chosen(pl.col("_k")))
        done = pending.filter("_hit")
        valid = valid.scatter(done["_i"], done["_v"]) if done.height else valid
        pending = pending.filter(~pl.col("_hit"))
    return valid


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """National prefix, lengths and validity for rows with a country code and metadata."""
    r = rules()
    frame = _index(frame)
    frame = frame.with_columns(_p=strip_national_prefix(frame, "nnn", "mkey"))
    accepted = _flag(r.accept, "mkey", _len("_p"))
    frame = frame.with_columns(nsn=pl.when(accepted).then("_p").otherwise("nnn"))
    length = _len("nsn")
    bad = (_len("nnn") < _MIN_NSN) | (length > _MAX_NSN) | (length < _MIN_NSN)
    unsupported = pl.col("mkey").is_null() | pl.col("mkey").is_in(r.unsupported)
    frame = frame.with_columns(_bad=bad, _unsupported=unsupported, _valid=pl.lit(False))
    checked = frame.filter(~pl.col("_bad") & ~pl.col("_unsupported"))
    frame = _scatter(frame, checked.with_columns(_valid=_validity(checked)), ["_valid"])
    status = (
        pl.when("_unsupported")
        .then(pl.lit(DEFER))
        .when("_bad")
        .then(pl.lit(INVALID))
        .when("_valid")
        .then(pl.lit(VALID))
        .otherwise(pl.lit(INVALID))
    )
    reason = (
        pl.when("_unsupported")
        .then(pl.lit(None, pl.String))
        .when("_bad")
        .then(pl.lit("wrong number of digits"))
        .when(~pl.col("_valid"))
        .then(pl.lit("not a valid number"))
    )
    e164 = pl.when(status == VALID).then(pl.concat_str(pl.lit("+"), "cc", "nsn"))
    return frame.select("key", status=status, reason=reason, e164=e164)


# ----------------------------------------------------------------------------- entry point


def decide(keys: pl.DataFrame) -> pl.DataFrame:
    """Distinct (key, region, plus, d) → (key, status, reason, e164)."""
    resolved = _country_code(_index(keys))
    settled = resolved.filter(pl.col("status").is_not_null())
    settled = settled.select("key", "status", "reason", e164=pl.lit(None, pl.String))
    todo = resolved.filter(pl.col("status").is_null())
    return pl.concat([settled, _finish(todo)])


def _settle_rest(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows outside the grammar: invalid when phonenumbers surely rejects them, else defer.

    phonenumbers needs two decimal digits at least (``_VALID_PHONE_NUMBER``) and at most
    ``_MAX_INPUT_STRING_LENGTH`` characters; polars' ``\\d`` is a superset of Python's.
    """
    frame = _index(frame)
    text = pl.col("input")
    hopeless = (text.str.len_chars() > _MAX_INPUT) | (text.str.count_matches(r"\d") < _MIN_NSN)
    rows = frame.filter(pl.col("status").is_null()).with_columns(
        status=pl.when(hopeless).then(pl.lit(INVALID)).otherwise(pl.lit(DEFER)),
        reason=pl.when(hopeless).then(pl.lit("it is not a phone number")),
    )
    return _scatter(frame, rows, ["status", "reason"]).select("status", "reason", "e164")


def fast_e164(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """Per row: ``status`` (valid/invalid/defer), ``reason`` (if invalid), ``e164`` (if valid).

    ``regions`` is every row's default region (two upper-case letters, else treated as
    unknown). Equal (region, '+', digits) triples — so equal inputs — are decided once.
    """
    frame = tokenize(phones, regions).with_columns(key=_key())
    keys = frame.filter(pl.col("key").is_not_null()).unique("key")
    answers = decide(keys.select("key", "region", "plus", "d"))
    joined = frame.join(answers, on="key", how="left", maintain_order="left")
    return _settle_rest(joined.select("input", "status", "reason", "e164"))
