"""The one free-text rule: no control character nor bidi override; notes may span lines."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints, ValidationError

from libs.platform.text import MULTI_LINE, MULTILINE_TEXT_PATTERN, ONE_LINE, PLAIN_TEXT_PATTERN


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
