"""Use cases of support-contract templates."""

from __future__ import annotations

from catalog.domain.contract_templates import ContractTerms, validate_contract_terms
from catalog.handlers.common import plain_or_none, public_page, record_created, record_update
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    ContractTemplate,
    Product,
)
from catalog.schemas.contract_templates import (
    ContractTemplateCreate,
    ContractTemplatePublic,
    ContractTemplateUpdate,
)
from libs.contracts.catalog import (
    ContractTemplateChanged,
)
from libs.platform.db import utcnow
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


def template_public(row: ContractTemplate) -> ContractTemplatePublic:
    """The public view of a contract template row."""
    return ContractTemplatePublic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        period_months=row.period_months,
        hours=plain_or_none(row.hours),
        on_expiry=row.on_expiry,
        product_id=row.product_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _template_terms(row: ContractTemplate) -> ContractTerms:
    public = template_public(row)
    return ContractTerms(public.kind, public.period_months, public.hours, public.on_expiry)


def _template_changed(row: ContractTemplate, change: str) -> ContractTemplateChanged:
    public = template_public(row)
    return ContractTemplateChanged(
        template_id=row.id,
        change=change,
        **public.model_dump(exclude={"id", "created_at", "updated_at"}),
    )


async def create_contract_template(
    *, uow: CatalogUnitOfWork, command: ContractTemplateCreate
) -> ContractTemplatePublic:
    """Add a support-contract template after checking the bounds its kind needs."""
    validate_contract_terms(
        ContractTerms(command.kind, command.period_months, command.hours, command.on_expiry)
    )
    if command.product_id is not None:
        await uow.catalog.get(Product, command.product_id)
    now = utcnow()
    row = ContractTemplate(
        id=new_id("ctpl"),
        name=command.name,
        kind=command.kind.value,
        period_months=command.period_months,
        hours=command.hours,
        on_expiry=command.on_expiry.value,
        product_id=command.product_id,
        created_at=now,
        updated_at=now,
    )
    public = template_public(row)
    await record_created(uow, row, "contract_template", public, _template_changed(row, "created"))
    return public


async def update_contract_template(
    *, uow: CatalogUnitOfWork, template_id: str, command: ContractTemplateUpdate
) -> ContractTemplatePublic:
    """Change a template; the result must still suit its kind."""
    row = await uow.catalog.get(ContractTemplate, template_id)
    changes = command.model_dump(exclude_unset=True)
    if changes.get("on_expiry") is not None:
        changes["on_expiry"] = changes["on_expiry"].value
    await record_update(
        uow,
        row,
        changes,
        entity_type="contract_template",
        changed=_template_changed,
        nullable=("period_months", "hours"),
        check=lambda r: validate_contract_terms(_template_terms(r)),
    )
    return template_public(row)


async def get_contract_template(*, uow: CatalogUnitOfWork, template_id: str) -> ContractTemplatePublic:
    """One contract template."""
    return template_public(await uow.catalog.get(ContractTemplate, template_id))


async def list_contract_templates(
    *, uow: CatalogUnitOfWork, page: PageRequest
) -> Page[ContractTemplatePublic]:
    """A page of contract templates."""
    return public_page(await uow.catalog.page(ContractTemplate, page), template_public)
