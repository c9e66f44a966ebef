"""Requests and views of meters (`/v1/meters`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import StrictBool
from libs.contracts.usage import MeterCode
from libs.platform.openapi import SET, UNSET, one_case_per
from libs.platform.text import ONE_LINE, PLAIN_TEXT_PATTERN
from rating.domain.meters import Aggregation, Meter, MeterFilter

MAX_FILTER_PROPERTIES = 16
MAX_FILTER_VALUES = 100

Name = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
UnitOfMeasure = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
ProductId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(examples=["prod_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]),
]
PROPERTY_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$"
PropertyName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PROPERTY_NAME_PATTERN)]
"""An event property a meter filters on or counts (`region`, `user_id`): letters, digits, `_`, `.`,
`:` and `-` (events may carry properties of other names; meters and summaries use these)."""
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=PLAIN_TEXT_PATTERN)]
"""An allowed value, compared with the event's value as text (`eu`, `42`, `true`)."""


def _only_property_names(schema: dict[str, Any]) -> None:
    # The names' shape is a rule on every key (propertyNames), not a pattern among others.
    schema["propertyNames"] = {"minLength": 1, "maxLength": 64, "pattern": PROPERTY_NAME_PATTERN}
    schema["additionalProperties"] = schema.pop("patternProperties", {}).get(PROPERTY_NAME_PATTERN, False)


FilterIn = Annotated[
    dict[PropertyName, Annotated[list[FilterValue], Field(min_length=1, max_length=MAX_FILTER_VALUES)]],
    Field(
        json_schema_extra=_only_property_names,
        max_length=MAX_FILTER_PROPERTIES,
        description="Only events whose every listed property holds one of its values count "
        '(compared as text: 42 matches "42", true matches "true"); others are kept as `filtered`.',
        examples=[{"region": ["eu", "us"]}],
    ),
]

_AGGREGATION_CASES = one_case_per(
    "aggregation",
    {
        Aggregation.UNIQUE_COUNT.value: {"property": SET},
        **{a.value: {"property": UNSET} for a in Aggregation if a is not Aggregation.UNIQUE_COUNT},
    },
)


class MeterCreate(BaseModel):
    """A new meter; its code is unique and, like its aggregation, never changes."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_AGGREGATION_CASES)

    code: MeterCode = Field(description="What usage events name in `meter`.", examples=["api_calls"])
    name: Name = Field(examples=["API calls"])
    unit_of_measure: UnitOfMeasure = Field(examples=["call"])
    aggregation: Aggregation = Field(
        description="How a period's events make its quantity: sum of quantities, count of events, "
        "max quantity, unique_count of a property's values, latest quantity."
    )
    property: PropertyName | None = Field(
        default=None, description="The property a unique_count meter counts distinct values of."
    )
    filter: FilterIn | None = None
    product_id: ProductId = Field(description="The catalog product whose usage price rates this meter.")


def _only_filter_nullable(schema: dict[str, Any]) -> None:
    # A field left out keeps its value; null clears the filter, and is refused elsewhere.
    for name, field in schema.get("properties", {}).items():
        kinds = field.get("anyOf", [])
        if name != "filter" and {"type": "null"} in kinds:
            kinds.remove({"type": "null"})
            if len(kinds) == 1:
                field.update(kinds.pop())
                del field["anyOf"]


class MeterUpdate(BaseModel):
    """Fields to change (absent = unchanged; `filter: null` removes the filter). Code and aggregation stay."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_only_filter_nullable)

    name: Name | None = None
    filter: FilterIn | None = None
    active: StrictBool | None = Field(default=None, description="An inactive meter refuses new events.")


class MeterPublic(BaseModel):
    """A meter as rating shows it."""

    id: str = Field(examples=["mtr_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    code: str
    name: str
    unit_of_measure: str
    aggregation: Aggregation
    property: str | None
    filter: dict[str, list[str]] | None
    product_id: str
    active: bool
    created_at: datetime
    updated_at: datetime


def filter_of(raw: dict[str, list[str]] | None) -> MeterFilter | None:
    """The domain filter of a request's (duplicate values collapse)."""
    return {name: frozenset(values) for name, values in raw.items()} if raw else None


def meter_public(meter: Meter) -> MeterPublic:
    """The public view of a meter (filter values sorted)."""
    return MeterPublic(
        id=meter.id,
        code=meter.code,
        name=meter.name,
        unit_of_measure=meter.unit_of_measure,
        aggregation=meter.aggregation,
        property=meter.property,
        filter={k: sorted(v) for k, v in meter.filter.items()} if meter.filter else None,
        product_id=meter.product_id,
        active=meter.active,
        created_at=meter.created_at,
        updated_at=meter.updated_at,
    )
