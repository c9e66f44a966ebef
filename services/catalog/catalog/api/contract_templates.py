"""`/v1/contract-templates`: support-contract templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from catalog.api.deps import ReadUow, WriteUow, id_path
from catalog.handlers import contract_templates as handlers
from catalog.schemas.contract_templates import (
    ContractTemplateCreate,
    ContractTemplatePublic,
    ContractTemplateUpdate,
)
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/contract-templates", tags=["contract templates"])
TemplateId = Annotated[str, id_path("Contract template id (ctpl_…).")]


@router.post(
    "",
    status_code=201,
    response_model=ContractTemplatePublic,
    summary="Create a contract template",
    responses=created_links("template_id", "get_contract_template", "update_contract_template"),
)
async def create_contract_template(body: ContractTemplateCreate, uow: WriteUow) -> ContractTemplatePublic:
    return await handlers.create_contract_template(uow=uow, command=body)


@router.get("", response_model=Page[ContractTemplatePublic], summary="List contract templates")
async def list_contract_templates(uow: ReadUow, page: PageParams) -> Page[ContractTemplatePublic]:
    return await handlers.list_contract_templates(uow=uow, page=page)


@router.get("/{template_id}", response_model=ContractTemplatePublic, summary="Get a contract template")
async def get_contract_template(template_id: TemplateId, uow: ReadUow) -> ContractTemplatePublic:
    return await handlers.get_contract_template(uow=uow, template_id=template_id)


@router.patch("/{template_id}", response_model=ContractTemplatePublic, summary="Change a contract template")
async def update_contract_template(
    template_id: TemplateId, body: ContractTemplateUpdate, uow: WriteUow
) -> ContractTemplatePublic:
    return await handlers.update_contract_template(uow=uow, template_id=template_id, command=body)
