"""The one free-text rule: no control character nor bidi override; notes may span lines."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints, ValidationError

from libs.platform.text import (
    MULTI_LINE,
    MULTILINE_TEXT_PATTERN,
    NON_BLANK_LINE,
    NON_BLANK_MULTILINE_TEXT_PATTERN,
    NON_BLANK_PLAIN_TEXT_PATTERN,
    NON_BLANK_TEXT,
    ONE_LINE,
    PLAIN_TEXT_PATTERN,
)


class Form(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=20), ONE_LINE]
    note: Annotated[str, StringConstraints(max_length=50), MULTI_LINE] = ""


NEVER = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]
NEVER += ["\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]


@pytest.mark.parametrize("char", [*NEVER, "\t", "\n", "\r"])
def test_one_line_text_refuses_controls_breaks_and_bidi(char: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Form(name=f"a{char}b")
    (error,) = caught.value.errors()
    assert error["type"] == "text_control_character"
    assert f"U+{ord(char):04X}" in error["msg"]


@pytest.mark.parametrize("char", NEVER)
def test_multi_line_text_refuses_controls_and_bidi(char: str) -> None:
    with pytest.raises(ValidationError):
        Form(name="a", note=f"x{char}y")


def test_multi_line_text_keeps_tabs_and_line_breaks() -> None:
    assert Form(name="Ünïcödé 名前 ok", note="one\ttwo\r\nthree\n").note == "one\ttwo\r\nthree\n"


def test_lengths_keep_pydantics_own_messages() -> None:
    with pytest.raises(ValidationError) as caught:
        Form(name="x" * 21)
    assert caught.value.errors()[0]["type"] == "string_too_long"


def test_the_schema_shows_lengths_and_the_pattern() -> None:
    properties = Form.model_json_schema()["properties"]
    assert properties["name"] == {
        "maxLength": 20,
        "minLength": 1,
        "pattern": PLAIN_TEXT_PATTERN,
        "title": "Name",
        "type": "string",
    }
    assert properties["note"]["pattern"] == MULTILINE_TEXT_PATTERN
    assert PLAIN_TEXT_PATTERN.isascii()


@given(st.text(max_size=20).filter(lambda t: t != ""))
def test_the_pattern_says_exactly_what_is_accepted(value: str) -> None:
    accepted = True
    try:
        Form(name=value)
    except ValidationError:
        accepted = False
    encodable = not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    assert accepted == (encodable and re.fullmatch(PLAIN_TEXT_PATTERN[1:-1], value) is not None)


class Required(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=20), NON_BLANK_LINE]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=50), NON_BLANK_TEXT] = "x"


@pytest.mark.parametrize("blank", [" ", "   ", "\u00a0", "\u3000", " \u2003 "])
def test_a_required_name_of_spaces_only_is_refused_as_blank(blank: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Required(name=blank)
    (error,) = caught.value.errors()
    assert error["type"] == "text_blank"
    assert error["loc"] == ("name",)


def test_a_required_reason_of_whitespace_and_line_breaks_only_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Required(name="a", reason=" \n\t\r\n ")
    assert caught.value.errors()[0]["type"] == "text_blank"


def test_the_schema_of_a_required_name_says_it_may_not_be_blank() -> None:
    schema = Required.model_json_schema()["properties"]
    assert schema["name"]["pattern"] == NON_BLANK_PLAIN_TEXT_PATTERN
    assert schema["reason"]["pattern"] == NON_BLANK_MULTILINE_TEXT_PATTERN


@given(st.text(max_size=12))
def test_the_non_blank_patterns_say_exactly_what_is_accepted(value: str) -> None:
    """A client validating with the OpenAPI pattern accepts exactly what the server accepts
    (schemathesis found a name of spaces that the schema allowed and the domain refused)."""
    one_line_ok = re.fullmatch(PLAIN_TEXT_PATTERN, value) is not None and bool(value.strip())
    multi_line_ok = re.fullmatch(MULTILINE_TEXT_PATTERN, value) is not None and bool(value.strip())
    assert (re.fullmatch(NON_BLANK_PLAIN_TEXT_PATTERN, value) is not None) == one_line_ok
    assert (re.fullmatch(NON_BLANK_MULTILINE_TEXT_PATTERN, value) is not None) == multi_line_ok
