"""`/v1/support-contracts`: support contracts sold from the catalog's templates (seed 004)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from rating.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from rating.domain.support_contracts import ContractState, HolderType
from rating.handlers import support_contracts as handlers
from rating.schemas.support_contracts import SupportContractCreate, SupportContractPublic

router = APIRouter(prefix="/v1/support-contracts", tags=["support contracts"])
ContractId = Annotated[str, id_path("Support contract id (sct_…).")]


@router.post(
    "",
    status_code=201,
    response_model=SupportContractPublic,
    summary="Open a support contract from a template",
    responses=created_links("contract_id", "get_support_contract", "cancel_support_contract"),
)
async def open_support_contract(body: SupportContractCreate, uow: WriteUow) -> SupportContractPublic:
    return await handlers.open_support_contract(uow=uow, command=body)


@router.get("", response_model=Page[SupportContractPublic], summary="List support contracts")
async def list_support_contracts(
    uow: ReadUow,
    page: PageParams,
    holder_type: Annotated[HolderType | None, Query(description="subscription or account.")] = None,
    holder_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="The subscription or account holding it.")
    ] = None,
    state: Annotated[ContractState | None, Query(description="Its state now, on its holder's date.")] = None,
) -> Page[SupportContractPublic]:
    filters = handlers.SupportContractFilters(holder_type=holder_type, holder_id=holder_id, state=state)
    return await handlers.list_support_contracts(uow=uow, filters=filters, page=page)


@router.get("/{contract_id}", response_model=SupportContractPublic, summary="Get a support contract")
async def get_support_contract(contract_id: ContractId, uow: ReadUow) -> SupportContractPublic:
    return await handlers.get_support_contract(uow=uow, contract_id=contract_id)


@router.post(
    "/{contract_id}/cancel", response_model=SupportContractPublic, summary="Cancel a support contract"
)
async def cancel_support_contract(contract_id: ContractId, uow: WriteUow) -> SupportContractPublic:
    return await handlers.cancel_support_contract(uow=uow, contract_id=contract_id)
