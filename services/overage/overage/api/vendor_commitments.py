"""`/v1/vendor-commitments`: resold commitments and the annual vendor invoices they make us expect.

A resold subscription's activation creates its commitment on its own; finance may enter one (an
`Idempotency-Key` is taken, and a subscription committed already answers 200 with its commitment).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams
from overage.api.deps import ID_PATTERN, FinanceUow, ReadUow, id_path
from overage.handlers import vendor_commitments as handlers
from overage.handlers.vendor_payables_port import CommitmentFilters
from overage.schemas.vendor_commitments import CommitmentCreate, CommitmentPublic, commitment_public

router = APIRouter(prefix="/v1/vendor-commitments", tags=["vendor payables"])
CommitmentId = Annotated[str, id_path("Vendor commitment id (vcom_…).")]
IdQuery = Annotated[str | None, Query(pattern=ID_PATTERN)]


@router.post(
    "",
    status_code=201,
    response_model=CommitmentPublic,
    summary="Enter a vendor commitment",
    description="Seats of a subscription bought from a vendor for a term: one expected vendor invoice "
    "per year, in advance (term start and each anniversary), each a year of the committed seats at "
    "the cost book's band for that many seats. A subscription committed already answers 200 with "
    "its commitment. 422 for an unknown cost book, another vendor's book, or a bad term.",
    responses={
        200: {"description": "The subscription's commitment, made earlier.", "model": CommitmentPublic},
        **created_links("commitment_id", "get_commitment"),
    },
)
async def enter_commitment(body: CommitmentCreate, uow: FinanceUow, response: Response) -> CommitmentPublic:
    commitment, created = await handlers.enter_commitment(uow=uow, entry=body.entry())
    if not created:
        response.status_code = 200
    view = await handlers.get_commitment(uow=uow, commitment_id=commitment.id)
    return commitment_public(view.commitment, view.received)


@router.get(
    "",
    response_model=Page[CommitmentPublic],
    summary="List vendor commitments",
    responses=response_links(200, {"get_commitment": {"commitment_id": "/data/0/id"}}),
)
async def list_commitments(
    uow: ReadUow,
    page: PageParams,
    account_id: IdQuery = None,
    vendor_id: IdQuery = None,
    subscription_id: IdQuery = None,
) -> Page[CommitmentPublic]:
    found = await handlers.list_commitments(
        uow=uow, filters=CommitmentFilters(account_id, vendor_id, subscription_id), page=page
    )
    return Page[CommitmentPublic](
        data=[commitment_public(v.commitment, v.received) for v in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/{commitment_id}", response_model=CommitmentPublic, summary="Get a vendor commitment")
async def get_commitment(commitment_id: CommitmentId, uow: ReadUow) -> CommitmentPublic:
    view = await handlers.get_commitment(uow=uow, commitment_id=commitment_id)
    return commitment_public(view.commitment, view.received)
