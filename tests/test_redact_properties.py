"""Properties of the masking of keys and the escaping of control characters, over random
keys and texts: no form of a key survives, text without the key is left as it is, and
the files' polars path does exactly what the messages' Python path does."""

from __future__ import annotations

import html
import json
import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import UsageError
from pipeline.key_forms import key_regex
from pipeline.sanitize import clean_expr, escape_controls
from pipeline.secrets import MASK, ApiKey, redact
from tests.hostile import encodings

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: what an API key may hold: printable ASCII, no space
KEYS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=40)
#: tab (9) excepted: it stays
CONTROL_CODES = [*range(9), *range(10, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x202E, 0x2066]
#: any text, control characters and the key's encoding characters included
TEXTS = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from([chr(c) for c in CONTROL_CODES] + list("%\\&+")),
    ),
    max_size=60,
)


def _cores(key: str) -> list[str]:
    """The key as each encoder writes it, without the quotes around it."""
    cores = []
    for form in encodings(key):
        if form.startswith("b'") or form.startswith('b"'):
            form = form[2:-1]
        elif form[:1] in "'\"" and form[-1:] == form[:1]:
            form = form[1:-1]
        cores.append(form)
    cores.append(json.dumps(key)[1:-1].replace("/", "\\/"))
    cores.append(html.escape(key, quote=True))
    return cores


@SETTINGS
@given(key=KEYS, before=TEXTS, after=TEXTS, which=st.integers(min_value=0, max_value=9))
def test_no_form_of_the_key_survives(key: str, before: str, after: str, which: int) -> None:
    text = before + encodings(key)[which] + after
    masked = redact(text, key)
    assert [c for c in _cores(key) if c in masked] == []


@SETTINGS
@given(
    key=st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABC0123456789_-.~=/"), min_size=8),
    text=st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABC0123456789_-.~=/ :"), max_size=80),
)
def test_text_without_the_key_is_left_as_it_is(key: str, text: str) -> None:
    if key in text:
        return
    assert redact(text, key) == text


@SETTINGS
@given(key=KEYS, before=TEXTS, after=TEXTS, which=st.integers(min_value=0, max_value=9))
def test_polars_reads_the_pattern_as_python_does(
    key: str, before: str, after: str, which: int
) -> None:
    pattern = key_regex([key])
    text = before + encodings(key)[which] + after
    by_polars = pl.Series([text]).str.replace_all(pattern, MASK)[0]
    assert by_polars == re.sub(pattern, MASK, text)


@SETTINGS
@given(texts=st.lists(TEXTS, min_size=1, max_size=5))
def test_files_are_cleaned_as_messages_are(texts: list[str]) -> None:
    frame = pl.DataFrame({"cell": [*texts, None]})
    cleaned = frame.select(clean_expr(pl.col("cell")))["cell"].to_list()
    assert cleaned == [*(escape_controls(redact(t, query=False)) for t in texts), None]


@SETTINGS
@given(text=TEXTS)
def test_no_control_character_is_left(text: str) -> None:
    escaped = escape_controls(text)
    assert not [c for c in escaped if ord(c) in CONTROL_CODES]
    if not any(ord(c) in CONTROL_CODES for c in text):
        assert escaped == text


def test_a_key_holding_the_mask_is_not_made_again_of_it() -> None:
    key = "ab***cdef"
    # masked once, the text around the key and the mask make it again
    assert redact("ab" + key + "cdef", key) == MASK


def test_short_keys_and_keys_with_lines_are_no_keys() -> None:
    for value in ("a", "1234567", "sk_live_abcdef\n# rotated", "sk live abcdef", "sk_lïve_abcdef"):
        with pytest.raises(UsageError, match=r"\(the value is not shown\)") as refused:
            ApiKey(value)
        if len(value) > 1:  # "a" is in every sentence: why a key has 8 characters at least
            assert value not in str(refused.value)
    assert ApiKey("12345678").reveal() == "12345678"
    assert "12345678" not in repr(ApiKey("12345678"))


def test_words_holding_the_letters_of_a_key_keep_them() -> None:
    key = ApiKey("a1b2c3d4").reveal()
    text = 'GET /contacts?page=1 → HTTP 400: {"detail": "bad a1b2c3d4"}'
    assert redact(text) == 'GET /contacts?page=1 → HTTP 400: {"detail": "bad ***"}'
    assert key not in redact(text)
