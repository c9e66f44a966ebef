"""`/v1/collections`: run the daily collections for a date, and read the cases with their history.
A run takes an `Idempotency-Key` (the platform's middleware); without one, repeating it changes
nothing anyway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from invoicing.domain.collections import CaseState
from invoicing.handlers import collections as handlers
from invoicing.handlers.collections_port import CaseFilters
from invoicing.schemas.collections import (
    CollectionsCasePublic,
    CollectionsRunCreate,
    CollectionsRunPublic,
    case_public,
    run_public,
)
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/collections", tags=["collections"])
CaseId = Annotated[str, id_path("Collections case id (col_…).")]


@router.post(
    "/runs",
    response_model=CollectionsRunPublic,
    summary="Run collections for a date",
    description="Opens a case for each account past due on `run_date` (under its dunning policy: "
    "its own, else the default), takes each step it has reached once, and closes the cases with "
    "nothing past due (requesting resumption where a case had suspended the account). Running "
    "the same date again, or an earlier one, changes nothing.",
)
async def run_collections(body: CollectionsRunCreate, uow: WriteUow) -> CollectionsRunPublic:
    return run_public(await handlers.run_collections_in(uow, on=body.run_date))


@router.get("/cases", response_model=Page[CollectionsCasePublic], summary="List collections cases")
async def list_cases(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The account.")] = None,
    state: Annotated[CaseState | None, Query(description="open or closed.")] = None,
) -> Page[CollectionsCasePublic]:
    found = await handlers.list_cases(uow=uow, filters=CaseFilters(account_id, state), page=page)
    return Page[CollectionsCasePublic](
        data=[case_public(c) for c in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


@router.get("/cases/{case_id}", response_model=CollectionsCasePublic, summary="Get a collections case")
async def get_case(case_id: CaseId, uow: ReadUow) -> CollectionsCasePublic:
    return case_public(await handlers.get_case(uow=uow, case_id=case_id))
