"""Requests and views of bundles."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    BaseModel,
    Field,
)

from catalog.domain.bundles import Bundle
from catalog.schemas.common import (
    REQUEST,
    Description,
    EntityId,
    Name,
    patch_body,
)
from libs.contracts.types import (
    Quantity,
    StrictBool,
)
from libs.platform.money import decimal_out


class BundleComponentIn(BaseModel):
    """A product in a bundle and how many of it one bundle holds."""

    model_config = REQUEST
    product_id: EntityId
    quantity: Quantity


class BundleComponentPublic(BaseModel):
    """A component of a bundle."""

    product_id: str
    quantity: Quantity


class BundleCreate(BaseModel):
    """Products sold together (platform + workshop seat + assessment license, say)."""

    model_config = REQUEST
    name: Name
    description: Description | None = None
    components: list[BundleComponentIn] = Field(min_length=1, max_length=50)


class BundleUpdate(BaseModel):
    """Fields to change on a bundle (absent = unchanged)."""

    model_config = patch_body("description")
    name: Name | None = None
    description: Description | None = None
    components: list[BundleComponentIn] | None = Field(default=None, min_length=1, max_length=50)
    active: StrictBool | None = None


class BundlePublic(BaseModel):
    """A bundle."""

    id: str
    name: str
    description: str | None
    components: list[BundleComponentPublic]
    active: bool
    created_at: datetime
    updated_at: datetime


def bundle_public(bundle: Bundle) -> BundlePublic:
    """The public view of a bundle."""
    return BundlePublic(
        id=bundle.id,
        name=bundle.name,
        description=bundle.description,
        components=[
            BundleComponentPublic(product_id=c.product_id, quantity=decimal_out(c.quantity))
            for c in bundle.components
        ],
        active=bundle.active,
        created_at=bundle.created_at,
        updated_at=bundle.updated_at,
    )
