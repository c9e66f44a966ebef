"""Use cases of support-contract templates: create, change, read, list."""

from __future__ import annotations

from catalog.domain.contract_templates import ContractTemplate
from catalog.handlers.common import commit_created, commit_updated, public_page
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.contract_templates import (
    ContractTemplateCreate,
    ContractTemplatePublic,
    ContractTemplateUpdate,
    contract_template_public,
)
from libs.platform.db import utcnow
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


async def create_contract_template(
    *, uow: CatalogUnitOfWork, command: ContractTemplateCreate
) -> ContractTemplatePublic:
    """Add a support-contract template after checking the bounds its kind needs."""
    template = ContractTemplate.create(id=new_id("ctpl"), now=utcnow(), **command.model_dump())
    if command.product_id is not None:
        await uow.products.get(command.product_id)
    uow.contract_templates.add(template)
    public = contract_template_public(template)
    await commit_created(uow, "contract_template", template, public)
    return public


async def update_contract_template(
    *, uow: CatalogUnitOfWork, template_id: str, command: ContractTemplateUpdate
) -> ContractTemplatePublic:
    """Change a template; the result must still suit its kind."""
    template = await uow.contract_templates.get(template_id)
    diff = template.update(command.model_dump(exclude_unset=True), now=utcnow())
    uow.contract_templates.add(template)
    await commit_updated(uow, "contract_template", template, diff)
    return contract_template_public(template)


async def get_contract_template(*, uow: CatalogUnitOfWork, template_id: str) -> ContractTemplatePublic:
    """One contract template."""
    return contract_template_public(await uow.contract_templates.get(template_id))


async def list_contract_templates(
    *, uow: CatalogUnitOfWork, page: PageRequest
) -> Page[ContractTemplatePublic]:
    """A page of contract templates."""
    return public_page(await uow.contract_templates.page(page), contract_template_public)
