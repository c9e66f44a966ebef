"""`/v1/quotes`: priced quotes with discounts and approval flags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from catalog.api.deps import QuoteUow, ReadUow, id_path
from catalog.handlers import quotes as handlers
from catalog.schemas.quotes import QuoteCreate, QuotePublic
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])
QuoteId = Annotated[str, id_path("Quote id (quo_…).")]


@router.post(
    "",
    status_code=201,
    response_model=QuotePublic,
    summary="Price and save a quote",
    responses=created_links("quote_id", "get_quote"),
)
async def create_quote(body: QuoteCreate, uow: QuoteUow) -> QuotePublic:
    return await handlers.create_quote(uow=uow, command=body)


@router.get("", response_model=Page[QuotePublic], summary="List quotes")
async def list_quotes(uow: ReadUow, page: PageParams) -> Page[QuotePublic]:
    return await handlers.list_quotes(uow=uow, page=page)


@router.get("/{quote_id}", response_model=QuotePublic, summary="Get a quote")
async def get_quote(quote_id: QuoteId, uow: ReadUow) -> QuotePublic:
    return await handlers.get_quote(uow=uow, quote_id=quote_id)
