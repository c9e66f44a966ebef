"""Integer fields count integers as JSON Schema does: 3.0 is 3; bools, strings and 3.5 are not."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from libs.contracts.types import IntegerRange


class _Terms(BaseModel):
    days: Annotated[int, IntegerRange(0, 365)] = 30
    months: Annotated[int, IntegerRange(1, 600)] | None = Field(default=None, description="Optional.")


@pytest.mark.parametrize(("wire", "read"), [(3, 3), (3.0, 3), (365.0, 365), (0, 0)])
def test_a_whole_json_number_is_an_integer(wire: object, read: int) -> None:
    assert _Terms.model_validate({"days": wire}).days == read


@pytest.mark.parametrize("wire", [True, "3", "0003", 3.5, 366, 366.0, -1, 1e300, None])
def test_anything_else_is_refused(wire: object) -> None:
    with pytest.raises(ValidationError):
        _Terms.model_validate({"days": wire})


def test_the_schema_states_the_bounds_for_required_and_optional_fields() -> None:
    properties = _Terms.model_json_schema()["properties"]
    assert properties["days"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 365,
        "default": 30,
        "title": "Days",
    }
    integer, null = properties["months"]["anyOf"]
    assert integer == {"type": "integer", "minimum": 1, "maximum": 600}
    assert null == {"type": "null"}
