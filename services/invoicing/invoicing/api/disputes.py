"""`/v1/disputes`: open a dispute on an issued invoice (or a line), review it, resolve it with a
credit note or a rejection. Opening takes an `Idempotency-Key` (the platform's middleware)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from invoicing.domain.disputes import DisputeState
from invoicing.handlers import disputes as handlers
from invoicing.handlers.disputes_port import DisputeFilters
from invoicing.schemas.disputes import DisputeCreate, DisputePublic, DisputeResolve, dispute_public
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])
DisputeId = Annotated[str, id_path("Dispute id (dsp_…).")]
_FOLLOW_UP = ("get_dispute", "review_dispute", "resolve_dispute")


@router.post(
    "",
    status_code=201,
    response_model=DisputePublic,
    summary="Open a dispute",
    description="On an issued invoice, or one of its lines (charge key). One open dispute per line "
    "(or per whole invoice) at a time: a second is a 409; a draft or void invoice is a 409.",
    responses=created_links("dispute_id", *_FOLLOW_UP),
)
async def open_dispute(body: DisputeCreate, uow: WriteUow) -> DisputePublic:
    dispute = await handlers.open_dispute(
        uow=uow,
        invoice_id=body.invoice_id,
        reason=body.reason,
        charge_key=body.charge_key,
        disputed_amount=body.disputed_amount,
    )
    return dispute_public(dispute)


@router.get(
    "",
    response_model=Page[DisputePublic],
    summary="List disputes",
    responses=response_links(200, {name: {"dispute_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_disputes(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The account.")] = None,
    invoice_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The disputed invoice.")] = None,
    state: Annotated[
        DisputeState | None, Query(description="open, under_review, resolved_credit, rejected.")
    ] = None,
) -> Page[DisputePublic]:
    found = await handlers.list_disputes(
        uow=uow, filters=DisputeFilters(account_id, invoice_id, state), page=page
    )
    return Page[DisputePublic](
        data=[dispute_public(d) for d in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


@router.get("/{dispute_id}", response_model=DisputePublic, summary="Get a dispute")
async def get_dispute(dispute_id: DisputeId, uow: ReadUow) -> DisputePublic:
    return dispute_public(await handlers.get_dispute(uow=uow, dispute_id=dispute_id))


@router.post("/{dispute_id}/review", response_model=DisputePublic, summary="Take a dispute under review")
async def review_dispute(dispute_id: DisputeId, uow: WriteUow) -> DisputePublic:
    return dispute_public(await handlers.start_review(uow=uow, dispute_id=dispute_id))


@router.post(
    "/{dispute_id}/resolve",
    response_model=DisputePublic,
    summary="Resolve a dispute",
    description="`credit` issues a credit note for `amount` (net; default the disputed amount) on "
    "the disputed line or the invoice, refused like any credit note; `reject` changes no money. "
    "A resolved dispute is a 409.",
)
async def resolve_dispute(dispute_id: DisputeId, body: DisputeResolve, uow: WriteUow) -> DisputePublic:
    dispute = await handlers.resolve_dispute(
        uow=uow, dispute_id=dispute_id, outcome=body.outcome, note=body.note, amount=body.amount
    )
    return dispute_public(dispute)
