"""`/v1/balances`: prepaid money or units of an account or subscription — top-ups, drawdowns,
expiry and rollover (the periodic job, or `POST /v1/balances/expire` on demand)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from libs.contracts.types import IsoDate
from libs.contracts.usage import Reference
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from rating.api.deps import ReadUow, WriteUow, id_path, runtime_from
from rating.config import RatingSettings
from rating.handlers import balances as handlers
from rating.handlers.balances_settlement import settle_balances
from rating.schemas.balances import (
    BalanceCreate,
    BalancePublic,
    DrawdownCreate,
    SettlementPublic,
    SettlementRequest,
    TopUpCreate,
    TransactionPublic,
)

router = APIRouter(prefix="/v1/balances", tags=["balances"])
BalanceId = Annotated[str, id_path("Balance id (bal_…).")]
_BALANCE_LINKS = created_links(
    "balance_id", "get_balance", "top_up_balance", "draw_down_balance", "list_balance_transactions"
)


@router.post(
    "", status_code=201, response_model=BalancePublic, summary="Open a balance", responses=_BALANCE_LINKS
)
async def create_balance(body: BalanceCreate, uow: WriteUow) -> BalancePublic:
    return await handlers.create_balance(uow=uow, command=body)


@router.get("", response_model=Page[BalancePublic], summary="List balances")
async def list_balances(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[Reference | None, Query()] = None,
    subscription_id: Annotated[Reference | None, Query()] = None,
) -> Page[BalancePublic]:
    return await handlers.list_balances(
        uow=uow, page=page, account_id=account_id, subscription_id=subscription_id
    )


@router.post(
    "/expire",
    response_model=SettlementPublic,
    summary="Book expiries and period ends (rollover) now",
)
async def expire_balances(body: SettlementRequest, uow: WriteUow, request: Request) -> SettlementPublic:
    settings = runtime_from(request).settings
    assert isinstance(settings, RatingSettings)
    settlement = await settle_balances(
        uow, as_of=body.as_of, delay_days=settings.balance_settle_delay_days, account_id=body.account_id
    )
    return SettlementPublic(
        balances_changed=settlement.balances_changed, transactions=settlement.transactions
    )


@router.get("/{balance_id}", response_model=BalancePublic, summary="Get a balance, optionally as of a date")
async def get_balance(
    balance_id: BalanceId, uow: ReadUow, as_of: Annotated[IsoDate | None, Query()] = None
) -> BalancePublic:
    return await handlers.get_balance(uow=uow, balance_id=balance_id, as_of=as_of)


@router.get(
    "/{balance_id}/transactions",
    response_model=Page[TransactionPublic],
    summary="List a balance's transactions, oldest first",
)
async def list_balance_transactions(
    balance_id: BalanceId, uow: ReadUow, page: PageParams
) -> Page[TransactionPublic]:
    return await handlers.list_transactions(uow=uow, balance_id=balance_id, page=page)


@router.post(
    "/{balance_id}/top-ups", status_code=201, response_model=BalancePublic, summary="Top up a balance"
)
async def top_up_balance(balance_id: BalanceId, body: TopUpCreate, uow: WriteUow) -> BalancePublic:
    return await handlers.top_up(uow=uow, balance_id=balance_id, command=body)


@router.post(
    "/{balance_id}/drawdowns",
    status_code=201,
    response_model=BalancePublic,
    summary="Draw from a balance by hand (the same reference twice changes nothing)",
)
async def draw_down_balance(balance_id: BalanceId, body: DrawdownCreate, uow: WriteUow) -> BalancePublic:
    return await handlers.draw_down_balance(uow=uow, balance_id=balance_id, command=body)
