"""Wire models shared by the catalog's concepts: field types, tiers. `XCreate` / `XUpdate` in, `XPublic` out.

Money and quantities use the shared wire types (`libs.contracts.types`): money is a JSON
string, a JSON number for money is a 422. Free text follows the one text rule of
`libs.platform.text` (no control character nor bidi override) and ids are short tokens, so no
input reaches the database, a log or a screen that it would choke on.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from libs.contracts.types import (
    Quantity,
    UnitPrice,
)
from libs.platform.money import decimal_out, unit_price_out
from libs.platform.text import MULTI_LINE, ONE_LINE
from libs.pricing import Tier

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    ONE_LINE,
    Field(examples=["WFM seat"]),
]
Description = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
_TOKEN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
# A code of a few characters; at most what its column holds (models.py), so a longer one is a 422,
# never a database error.
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=_TOKEN)]
VendorId = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=_TOKEN)]
Sku = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"),
    AfterValidator(str.upper),
]
"""A SKU: ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit;
stored upper case, so `case1` and `CASE1` are one SKU (the second is a 409)."""
EntityId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(examples=["prod_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]),
]
PromoCode = Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")]
DecimalText = Annotated[
    Decimal,
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}),
]
"""An unrounded decimal shown for information (a tier breakdown); output only."""

REQUEST = ConfigDict(extra="forbid")


def patch_body(*nullable: str) -> ConfigDict:
    """A PATCH body: a field left out keeps its value; null clears only the `nullable` ones.

    The schema says so (the handlers refuse null elsewhere), so documented nulls are accepted.
    """

    def only_documented_nulls(schema: dict[str, Any]) -> None:
        for name, field in schema.get("properties", {}).items():
            kinds = field.get("anyOf", [])
            if name not in nullable and {"type": "null"} in kinds:
                kinds.remove({"type": "null"})
                if len(kinds) == 1:
                    field.update(kinds.pop())
                    del field["anyOf"]

    return ConfigDict(extra="forbid", json_schema_extra=only_documented_nulls)


class TierIn(BaseModel):
    """One band: `up_to` inclusive, null on the last (open) band."""

    model_config = REQUEST
    up_to: Quantity | None = None
    unit_price: UnitPrice
    flat_fee: UnitPrice = Decimal(0)


class TierPublic(BaseModel):
    """A band of a published price or cost book."""

    up_to: Quantity | None
    unit_price: UnitPrice
    flat_fee: UnitPrice


def tiers_public(tiers: Sequence[Tier]) -> list[TierPublic]:
    """Tiers as the API shows them (exact decimals in their shortest form, as stored)."""
    return [
        TierPublic(
            up_to=decimal_out(t.up_to),
            unit_price=unit_price_out(t.unit_price),
            flat_fee=decimal_out(t.flat_fee),
        )
        for t in tiers
    ]


def tier_values(tiers: Sequence[TierIn]) -> tuple[Tier, ...]:
    """The pricing engine's tiers of a request."""
    return tuple(Tier(t.up_to, t.unit_price, t.flat_fee) for t in tiers)
