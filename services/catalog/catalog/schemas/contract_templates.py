"""Requests and views of support-contract templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
)

from catalog.domain.contract_templates import BOUNDS_BY_KIND, ContractKind, ContractTemplate, ExpiryOption
from catalog.schemas.common import (
    EntityId,
    Name,
    patch_body,
)
from libs.contracts.types import (
    IntegerRange,
    Quantity,
)
from libs.platform.money import decimal_out
from libs.platform.openapi import SET, UNSET, one_case_per


class ContractTemplateCreate(BaseModel):
    """A support-contract template: subscription (period), time_limited (period and hours,
    whichever ends first), support_hours (hours) or per_incident."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=one_case_per(
            "kind",
            {
                kind: {
                    "period_months": SET if period else UNSET,
                    "hours": SET if hours else UNSET,
                    # Only hours roll over (validate_contract_terms).
                    "on_expiry": {} if hours else {"enum": [ExpiryOption.IGNORE]},
                }
                for kind, (period, hours) in BOUNDS_BY_KIND.items()
            },
        ),
    )
    name: Name
    kind: ContractKind
    period_months: Annotated[int, IntegerRange(1, 120)] | None = None
    hours: Quantity | None = None
    on_expiry: ExpiryOption = ExpiryOption.IGNORE
    product_id: EntityId | None = None


class ContractTemplateUpdate(BaseModel):
    """Fields to change on a template (absent = unchanged; null clears an optional field)."""

    model_config = patch_body("period_months", "hours")
    name: Name | None = None
    period_months: Annotated[int, IntegerRange(1, 120)] | None = None
    hours: Quantity | None = None
    on_expiry: ExpiryOption | None = None


class ContractTemplatePublic(BaseModel):
    """A support-contract template."""

    id: str
    name: str
    kind: ContractKind
    period_months: int | None
    hours: Quantity | None
    on_expiry: ExpiryOption
    product_id: str | None
    created_at: datetime
    updated_at: datetime


def contract_template_public(template: ContractTemplate) -> ContractTemplatePublic:
    """The public view of a support-contract template."""
    return ContractTemplatePublic(
        id=template.id,
        name=template.name,
        kind=template.kind,
        period_months=template.period_months,
        hours=decimal_out(template.hours),
        on_expiry=template.on_expiry,
        product_id=template.product_id,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )
