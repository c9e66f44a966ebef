"""Wire models of the catalog API: `XCreate` / `XUpdate` in, `XPublic` out.

Money and quantities use the shared wire types (`libs.contracts.types`): money is a JSON
string, a JSON number for money is a 422. Free text refuses control characters (a NUL byte
cannot be stored by PostgreSQL) and ids are short tokens, so no input reaches the database
that it would choke on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
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

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(examples=["WFM seat"]),
]
Description = Annotated[
    str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]
Token = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
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
