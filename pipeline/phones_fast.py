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
    later_leading_digits: str
    later_groups: tuple[tuple[int, str, int], ...]
    later_plain: tuple[tuple[str, int, str], ...]
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


def _later_leading_digits(
    metas: dict[str, Meta], cc_codes: dict[str, tuple[str, ...]]
) -> tuple[str, tuple[tuple[int, str, int], ...]]:
    """Leading digits of the 2nd, 3rd, ... regions of each shared calling code, in order.

    Keyed by the calling code's first region; each pattern sits in a capturing group, so
    the first group that captured names the first region (in phonenumbers' order) whose
    leading digits match. Returns the pattern and (group, code, position) triples.
    """
    alts, groups, group = [], [], 1
    for codes in cc_codes.values():
        branch = []
        for position, code in enumerate(codes[1:], start=1):
            pattern = metas[code].leading_digits
            if pattern is not None:
                branch.append(f"({pattern})")
                groups.append((group, code, position))
                group += 1 + re.compile(pattern).groups
        if branch:
            alts.append(f"{codes[0]}(?:{'|'.join(branch)})")
    return f"^(?:{'|'.join(alts) or _NEVER})", tuple(groups)


def _later_plain(
    metas: dict[str, Meta], cc_codes: dict[str, tuple[str, ...]]
) -> tuple[tuple[str, int, str], ...]:
    """(cc, position, code) of the 2nd, 3rd, ... regions without leading digits, by position."""
    found = [
        (cc, position, code)
        for cc, codes in cc_codes.items()
        for position, code in enumerate(codes[1:], start=1)
        if metas[code].leading_digits is None
    ]
    return tuple(sorted(found, key=lambda item: item[1]))


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
    later, groups = _later_leading_digits(metas, cc_codes)
    geo = {code: metas[code] for code in region_code.values()}
    return Rules(
        region_code=region_code,
        region_cc={region: metas[code].cc for region, code in region_code.items()},
        main_code={cc: found[0] for cc, found in cc_codes.items()},
        later_leading_digits=later,
        later_groups=groups,
        later_plain=_later_plain(metas, cc_codes),
        single=sorted(cc for cc, found in cc_codes.items() if len(found) == 1),
        unsupported=sorted(code for code, m in metas.items() if not m.supported),
        cc="^(?:" + "|".join(str(c) for c in codes) + ")",
        idd=_keyed({code: m.idd for code, m in geo.items()}),
        national_prefix=_keyed(
            {c: m.npfp if m.transform is None else None for c, m in metas.items()}
        ),
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

# Outcomes travel as small integers (cheap columns); names are attached at the end.
_GO, _VALID, _INVALID, _DEFER = 0, 1, 2, 3
_STATUS = {_VALID: VALID, _INVALID: INVALID, _DEFER: DEFER}
_REASONS = {
    1: "no valid default region to read a national number with",
    2: "too short after the international prefix",
    3: "unknown country calling code",
    4: "wrong number of digits for its country",
    5: "not a valid number for its country",
    6: "no phone number in it",
}
_NO_REGION, _SHORT_IDD, _UNKNOWN_CC, _BAD_LENGTH, _NOT_VALID, _NOT_A_NUMBER = range(1, 7)
_LL = {n: f"{n:02d}" for n in range(100)}


def _u8(value: int) -> pl.Expr:
    return pl.lit(value, pl.UInt8)


def _on(code: str | pl.Expr, *values: str | pl.Expr) -> pl.Expr:
    """The string a keyed regex runs on: the 3-digit code, then the digits."""
    first = pl.col(code) if isinstance(code, str) else code
    return pl.concat_str([first, *(pl.col(v) if isinstance(v, str) else v for v in values)])


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


def _index(frame: pl.DataFrame, name: str = "_i") -> pl.DataFrame:
    return frame.drop(name, strict=False).with_row_index(name)


def _scatter(
    frame: pl.DataFrame, part: pl.DataFrame, columns: list[str], index: str = "_i"
) -> pl.DataFrame:
    """Write ``part``'s ``columns`` into ``frame`` at the positions ``part[index]``."""
    if part.height == 0:
        return frame
    updates = {}
    for name in columns:
        base = frame[name] if name in frame.columns else pl.Series(name, [None] * frame.height)
        updates[name] = base.cast(part[name].dtype).scatter(part[index], part[name])
    return frame.with_columns(**updates)


# ----------------------------------------------------------------------------- tokenize


def _digits(text: pl.Expr) -> pl.Expr:
    """The ASCII digits of text made only of digits, '+' and _NOT_DIGITS characters."""
    strip = [*_NOT_DIGITS, "+"]
    return text.str.replace_many(strip, [""] * len(strip))


def tokenize(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """``input``, ``region``, ``plus``, ``d`` (ASCII digits; null outside the grammar) and
    ``hopeless`` (phonenumbers surely finds no number: fewer than two digits, too long)."""
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
    lettered = lettered.with_columns(_ok=_len("d") > _MIN_NSN)
    frame = _scatter(frame, lettered, ["d", "_ok"])
    frame = _two_digits(frame)
    return frame.select(
        "input",
        "region",
        "plus",
        d=pl.when("_ok").then("d").otherwise(pl.lit(None, pl.String)),
        hopeless=pl.col("_tiny") | (text.str.len_chars() > _MAX_INPUT),
    )


def _two_digits(frame: pl.DataFrame) -> pl.DataFrame:
    """Two digits are a number for phonenumbers only when nothing else is between the ends
    (``_VALID_PHONE_NUMBER``'s ``\\d{2}``); anything else with two digits is not one."""
    edges = "".join(_NOT_DIGITS)
    two = frame.filter(pl.col("_ok") & ~pl.col("_alpha") & (_len("d") == _MIN_NSN))
    bare = pl.col("input").str.strip_chars(edges) == pl.col("d")
    two = two.with_columns(_tiny=~bare, _ok=bare)
    return _scatter(frame.with_columns(_tiny=pl.lit(False)), two, ["_tiny", "_ok"])


def _key() -> pl.Expr:
    """Exact Int128 key of (region, plus, digits) for 2 to 32 digits; null otherwise."""
    digits = pl.col("d")
    fits = digits.str.len_bytes().is_between(_MIN_NSN, _MAX_DIGITS)
    value = digits.cast(pl.Int128, strict=False) * 64 + digits.str.len_bytes().cast(pl.Int128)
    value = value * 2 + pl.col("plus").cast(pl.Int128)
    region = pl.col("region").str.to_integer(base=36, strict=False).cast(pl.Int128)
    known = pl.col("region").str.contains("^[A-Z]{2}$")
    return pl.when(fits & known).then(value * 2048 + region)


# ----------------------------------------------------------------------------- national prefix


def _transformed(frame: pl.DataFrame, num: str, code: str) -> pl.DataFrame:
    """Rows of regions with a transform rule: ``_cand`` where the prefix matched.

    At most one region's branch matches a row, so the captured groups of the matching
    branch are the only non-null fields of the row's struct.
    """
    r = rules()
    field = pl.col("_g").struct.field
    frame = _index(frame, "_j").with_columns(_g=_on(code, num).str.extract_groups(r.transform))
    outer = pl.coalesce([field(str(slot.base)) for slot in r.slots])
    last = pl.any_horizontal([field(str(s.base + s.groups)).is_not_null() for s in r.slots])
    frame = frame.with_columns(
        _cand=pl.col(num).str.slice(_len(outer)), _apply=outer.is_not_null() & last
    ).filter(pl.col("_cand").is_not_null())
    value = pl.coalesce(
        [
            pl.when(field(str(slot.base)).is_not_null()).then(
                pl.concat_str([_rule_part(slot, p) for p in slot.rule] + [pl.col("_cand")])
            )
            for slot in r.slots
        ]
    )
    applied = _index(frame, "_j").filter("_apply").with_columns(_cand=value)
    return _scatter(_index(frame, "_j"), applied, ["_cand"], "_j").drop("_g", "_apply", "_j")


def _rule_part(slot: Slot, part: str | int) -> pl.Expr:
    """A transform rule's literal, or its group (empty when it did not participate)."""
    if isinstance(part, str):
        return pl.lit(part)
    return pl.col("_g").struct.field(str(slot.base + part)).fill_null("")


def strip_national_prefix(frame: pl.DataFrame, num: str, code: str) -> pl.Series:
    """_maybe_strip_national_prefix_carrier_code(frame[num], metadata of frame[code])[1]."""
    r = rules()
    frame = _index(frame.select(num, code))
    nonempty = _len(num) > 0
    matched = _len(_on(code, num).str.extract(r.national_prefix, 0)) - 3
    frame = _run(frame, _m=pl.when(nonempty).then(matched))
    plain = frame.filter(pl.col("_m").is_not_null())
    plain = plain.with_columns(_cand=pl.col(num).str.slice(pl.col("_m")))
    special = frame.filter(pl.col(code).is_in([s.code for s in r.slots]) & nonempty)
    found = pl.concat([plain.drop("_m"), _transformed(special.drop("_m"), num, code)])
    viable = _on(code, num).str.contains(r.general)
    still = _on(code, "_cand").str.contains(r.general)
    found = found.filter(~viable | still)
    return _scatter(frame, found.drop(num).rename({"_cand": num}), [num])[num]


# ----------------------------------------------------------------------------- country code


def _own_country_code(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows starting with their default region's country code: does phonenumbers strip it?

    Keeps the rows where it does, with ``nnn`` the rest after national-prefix stripping.
    """
    r = rules()
    frame = frame.with_columns(nnn=pl.col("d").str.slice(_len("rcc")))
    frame = frame.with_columns(nnn=strip_national_prefix(frame, "nnn", "rcode"))
    before = _on("rcode", "d").str.contains(r.general)
    after = _on("rcode", "nnn").str.contains(r.general)
    too_long = _flag(r.too_long, "rcode", _len("d"))
    return frame.filter((~before & after) | too_long)


def _after_idd(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose international prefix phonenumbers strips: country code, or invalid."""
    r = rules()
    rest = pl.col("d").str.slice(pl.col("_idd"))
    frame = frame.with_columns(cc=rest.str.extract(r.cc, 0), _rest=_len(rest))
    unknown = pl.col("cc").is_null()
    return frame.with_columns(
        status=pl.when((pl.col("_rest") <= _MIN_NSN) | unknown)
        .then(_u8(_INVALID))
        .otherwise(_u8(_GO)),
        reason=pl.when(pl.col("_rest") <= _MIN_NSN)
        .then(_u8(_SHORT_IDD))
        .when(unknown)
        .then(_u8(_UNKNOWN_CC)),
        _off=pl.col("_idd") + _len("cc"),
    )


def _country_code(frame: pl.DataFrame) -> pl.DataFrame:
    """parse()'s country-code step: status/reason (when settled here), cc, nnn, mkey."""
    r = rules()
    d, region = pl.col("d"), pl.col("region")
    frame = frame.with_columns(
        rcode=region.replace_strict(r.region_code, default=None, return_dtype=pl.String),
        rcc=region.replace_strict(r.region_cc, default=None, return_dtype=pl.String),
    )
    frame = _run(
        frame,
        cc=pl.when("plus").then(d.str.extract(r.cc, 0)),
        _idd=_len(_on("rcode", d).str.extract(r.idd, 0)) - 3,
    )
    stripped = pl.col("_idd").is_not_null() & (d.str.slice(pl.col("_idd"), 1) != "0")
    frame = frame.with_columns(
        _idd=pl.when(pl.col("cc").is_null() & stripped).then("_idd"),
        status=_u8(_GO),
        reason=pl.lit(None, pl.UInt8),
        _off=_len("cc"),
        mkey=pl.lit(None, pl.String),
        nnn=pl.lit(None, pl.String),
    )
    frame = _national(frame)
    main = pl.col("cc").replace_strict(r.main_code, default=None, return_dtype=pl.String)
    return frame.with_columns(
        mkey=pl.coalesce("mkey", main),
        nnn=pl.coalesce("nnn", pl.col("d").str.slice(pl.col("_off"))),
    ).select("key", "status", "reason", "cc", "nnn", "mkey")


def _national(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows without a '+' country code: region, international prefix, own country code."""
    r = rules()
    national = frame.filter(pl.col("cc").is_null())
    no_region = national.filter(pl.col("rcode").is_null())
    no_region = no_region.with_columns(status=_u8(_INVALID), reason=_u8(_NO_REGION))
    national = national.filter(pl.col("rcode").is_not_null())
    odd = national.filter(pl.col("rcode").is_in(r.unsupported)).with_columns(status=_u8(_DEFER))
    national = national.filter(~pl.col("rcode").is_in(r.unsupported))
    idd = _after_idd(national.filter(pl.col("_idd").is_not_null()))
    national = national.filter(pl.col("_idd").is_null())
    starts = national.filter(pl.col("d").str.starts_with(pl.col("rcc")))
    own = _own_country_code(starts).with_columns(mkey=pl.lit(None, pl.String))
    retry = pl.col("plus") & ~pl.col("_i").is_in(own["_i"].implode())
    national = national.with_columns(
        cc=pl.col("rcc"),
        _off=pl.lit(0, pl.Int64),
        mkey=pl.col("rcode"),
        status=pl.when(retry).then(_u8(_INVALID)).otherwise("status"),
        reason=pl.when(retry).then(_u8(_UNKNOWN_CC)).otherwise("reason"),
    )
    columns = ["status", "reason", "cc", "_off", "mkey", "nnn"]
    for part in (no_region, odd, idd, national):
        frame = _scatter(frame, part, columns)
    return _scatter(frame, own, ["nnn", "mkey"])


# ----------------------------------------------------------------------------- validity


def _valid_for(text: pl.Expr) -> pl.Expr:
    """_number_type_helper(nsn, metadata) != UNKNOWN, over code + 2-digit length + nsn."""
    r = rules()
    return text.str.contains(r.valid_general) & text.str.contains(r.valid_types)


def _validity(frame: pl.DataFrame) -> pl.Series:
    """is_valid_number: the region is chosen by leading digits among those sharing ``cc``."""
    r = rules()
    first = pl.col("cc").replace_strict(r.main_code, default=None, return_dtype=pl.String)
    length = _len("nsn").replace_strict(_LL, default="99", return_dtype=pl.String)
    frame = _index(frame.select("cc", "nsn")).with_columns(_k=first, _ll=length)
    frame = _run(frame, _v=_valid_for(_on("_k", "_ll", "nsn")))
    ld = pl.col("_k").replace_strict(r.has_leading_digits, default=False, return_dtype=pl.Boolean)
    single = pl.col("cc").is_in(r.single)
    frame = frame.with_columns(_hit=single | (~ld & pl.col("_v")), _ld=~single & ld)
    with_ld = frame.filter("_ld")
    with_ld = with_ld.with_columns(_hit=_on("_k", "nsn").str.contains(r.leading_digits))
    frame = _scatter(frame, with_ld, ["_hit"])
    later = frame.filter(~pl.col("_hit"))
    frame = frame.with_columns(_valid=pl.col("_v") & pl.col("_hit"))
    return _scatter(frame, _later_regions(later), ["_valid"])["_valid"]


def _later_regions(frame: pl.DataFrame) -> pl.DataFrame:
    """``_valid`` for rows whose calling code's first region did not claim them.

    The first later region whose leading digits match (one regex, see
    _later_leading_digits) competes with the later regions without leading digits, which
    claim a number when it is valid for them; the earliest claim decides.
    """
    r = rules()
    frame = _index(frame.rename({"_i": "_outer"}))
    frame = frame.with_columns(_g=_on("_k", "nsn").str.extract_groups(r.later_leading_digits))
    captured = [pl.col("_g").struct.field(str(g)).is_not_null() for g, _, _ in r.later_groups]
    code = [pl.when(c).then(pl.lit(k)) for c, (_, k, _) in zip(captured, r.later_groups)]
    pos = [pl.when(c).then(pl.lit(p)) for c, (_, _, p) in zip(captured, r.later_groups)]
    frame = frame.with_columns(_pos=pl.coalesce(pos).cast(pl.Int64), _code=pl.coalesce(code))
    frame = frame.drop("_g").with_columns(
        _valid=_valid_for(_on("_code", "_ll", "nsn")).fill_null(False)
    )
    for cc, position, plain in r.later_plain:
        earlier = pl.col("_pos").is_null() | (pl.col("_pos") > position)
        rows = frame.filter((pl.col("cc") == cc) & earlier)
        rows = rows.filter(_valid_for(_on(pl.lit(plain), "_ll", "nsn")))
        rows = rows.with_columns(_pos=pl.lit(position, pl.Int64), _valid=pl.lit(True))
        frame = _scatter(frame, rows, ["_pos", "_valid"])
    return frame.select(pl.col("_outer").alias("_i"), "_valid")


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """National prefix, lengths and validity for rows with a country code and metadata."""
    r = rules()
    frame = _index(frame)
    frame = frame.with_columns(_p=strip_national_prefix(frame, "nnn", "mkey"))
    accepted = _flag(r.accept, "mkey", _len("_p"))
    frame = frame.with_columns(nsn=pl.when(accepted).then("_p").otherwise("nnn"))
    length = _len("nsn")
    bad = (_len("nnn") < _MIN_NSN) | (length > _MAX_NSN) | (length < _MIN_NSN)
    odd = pl.col("mkey").is_null() | pl.col("mkey").is_in(r.unsupported)
    frame = frame.with_columns(
        status=pl.when(odd).then(_u8(_DEFER)).when(bad).then(_u8(_INVALID)).otherwise(_u8(_GO)),
    )
    checked = frame.filter(pl.col("status") == _GO)
    checked = checked.with_columns(_valid=_validity(checked))
    frame = _scatter(frame.with_columns(_valid=pl.lit(False)), checked, ["_valid"])
    status = pl.when(pl.col("status") != _GO).then("status")
    status = status.when("_valid").then(_u8(_VALID)).otherwise(_u8(_INVALID))
    reason = pl.when(pl.col("status") == _INVALID).then(_u8(_BAD_LENGTH))
    reason = reason.when((pl.col("status") == _GO) & ~pl.col("_valid")).then(_u8(_NOT_VALID))
    e164 = pl.when(pl.col("_valid")).then(pl.concat_str(pl.lit("+"), "cc", "nsn"))
    return frame.select("key", status=status, reason=reason, e164=e164)


# ----------------------------------------------------------------------------- entry point


def decide(keys: pl.DataFrame) -> pl.DataFrame:
    """Distinct (key, region, plus, d) → (key, status, reason, e164); codes as UInt8."""
    resolved = _country_code(_index(keys))
    settled = resolved.filter(pl.col("status") != _GO)
    settled = settled.select("key", "status", "reason", e164=pl.lit(None, pl.String))
    return pl.concat([settled, _finish(resolved.filter(pl.col("status") == _GO))])


def _settle_rest(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows outside the grammar: invalid when phonenumbers surely rejects them, else defer.

    phonenumbers needs two decimal digits at least (``_VALID_PHONE_NUMBER``) and at most
    ``_MAX_INPUT_STRING_LENGTH`` characters; polars' ``\\d`` is a superset of Python's.
    """
    frame = _index(frame)
    rows = frame.filter(pl.col("status").is_null())
    rows = rows.with_columns(
        hopeless=pl.col("hopeless") | (pl.col("input").str.count_matches(r"\d") < _MIN_NSN)
    )
    rows = rows.with_columns(
        status=pl.when("hopeless").then(_u8(_INVALID)).otherwise(_u8(_DEFER)),
        reason=pl.when("hopeless").then(_u8(_NOT_A_NUMBER)),
    )
    frame = _scatter(frame, rows, ["status", "reason"])
    return frame.select(
        status=pl.col("status").replace_strict(_STATUS, return_dtype=pl.String),
        reason=pl.col("reason").replace_strict(_REASONS, default=None, return_dtype=pl.String),
        e164="e164",
    )


def fast_e164(phones: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """Per row: ``status`` (valid/invalid/defer), ``reason`` (if invalid), ``e164`` (if valid).

    ``regions`` is every row's default region (two upper-case letters, else treated as
    unknown). Equal (region, '+', digits) triples — so equal inputs — are decided once.
    """
    frame = tokenize(phones, regions).with_columns(key=_key())
    first = pl.col("key").is_first_distinct() & pl.col("key").is_not_null()
    answers = decide(frame.select("key", "region", "plus", "d").filter(first))
    joined = frame.select("key").join(answers, on="key", how="left", maintain_order="left")
    joined = joined.with_columns(frame["input"], frame["hopeless"])
    return _settle_rest(joined)
