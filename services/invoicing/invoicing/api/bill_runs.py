"""`/v1/bill-runs`: start a bill run and follow it; `/v1/accounts/{id}/invoice-preview`: an account's
next invoices as a dry run."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from invoicing.api.deps import ReadUow, WriteUow, id_path, runtime_from
from invoicing.domain.bill_runs import BillRunState
from invoicing.handlers import bill_runs as handlers
from invoicing.schemas.bill_runs import (
    AccountFailurePublic,
    BillRunCreate,
    BillRunPublic,
    InvoicePreviewPublic,
)
from libs.contracts.types import IsoDate
from libs.platform.openapi import response_links
from libs.platform.pagination import Page, PageParams
from libs.platform.problems import PROBLEM_MEDIA_TYPE, Problem

router = APIRouter(tags=["bill runs"])
RunId = Annotated[str, id_path("Bill run id (brun_…).")]
AccountId = Annotated[str, id_path("Account id (acct_…).")]
_PROBLEM: dict[str, Any] = {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}}
_NOT_WIRED: dict[int | str, dict[str, Any]] = {
    503: {**_PROBLEM, "description": "No account billing is wired in this service"}
}
_LINKS = {"get_bill_run": {"run_id": "/id"}, "list_bill_run_failures": {"run_id": "/id"}}


def _located(response: Response, run: BillRunPublic) -> BillRunPublic:
    response.headers["Location"] = f"/v1/bill-runs/{run.id}"
    return run


@router.post(
    "/v1/bill-runs",
    status_code=202,
    response_model=BillRunPublic,
    summary="Start a bill run (every account, or the listed ones; a dry run stores nothing)",
    description="Records the run and answers 202 with `Location: /v1/bill-runs/{id}`; the service "
    "then pages the accounts into chunks and bills them across its replicas. Poll the run for its "
    "progress. Each account gets one invoice per currency and period whatever happens: a run "
    "repeated, two runs at once, a run interrupted and resumed (an invoice that exists already "
    "counts as `invoices_existing`). Send an `Idempotency-Key` to start it once.",
    responses={202: response_links(202, _LINKS)[202], **_NOT_WIRED},
)
async def start_bill_run(
    request: Request, response: Response, body: BillRunCreate, uow: WriteUow
) -> BillRunPublic:
    runtime_from(request).require_account_billing()
    return _located(response, await handlers.start_bill_run(uow, command=body))


@router.get("/v1/bill-runs", response_model=Page[BillRunPublic], summary="List bill runs (oldest first)")
async def list_bill_runs(
    uow: ReadUow, page: PageParams, state: Annotated[BillRunState | None, Query()] = None
) -> Page[BillRunPublic]:
    return await handlers.list_bill_runs(uow, page=page, state=state)


@router.get(
    "/v1/bill-runs/{run_id}",
    response_model=BillRunPublic,
    summary="A bill run: its state and progress",
    description="Accounts done of the total, invoices created (and found existing), amounts per "
    "currency, failed accounts with their reasons (the first ones; all of them under /failures). "
    "Counts move one committed chunk at a time.",
)
async def get_bill_run(run_id: RunId, uow: ReadUow) -> BillRunPublic:
    return await handlers.get_bill_run(uow, run_id=run_id)


@router.get(
    "/v1/bill-runs/{run_id}/failures",
    response_model=Page[AccountFailurePublic],
    summary="The accounts a bill run could not bill, with the reasons (by account id)",
)
async def list_bill_run_failures(run_id: RunId, uow: ReadUow, page: PageParams) -> Page[AccountFailurePublic]:
    return await handlers.list_failures(uow, run_id=run_id, page=page)


@router.post(
    "/v1/bill-runs/{run_id}/retry-failures",
    status_code=202,
    response_model=BillRunPublic,
    summary="Start a run of a finished run's failed accounts",
    description="409 while the run is still going or when none of its accounts failed.",
    responses={202: response_links(202, _LINKS)[202], **_NOT_WIRED},
)
async def retry_bill_run_failures(
    request: Request, response: Response, run_id: RunId, uow: WriteUow
) -> BillRunPublic:
    runtime_from(request).require_account_billing()
    return _located(response, await handlers.retry_failures(uow, run_id=run_id))


@router.get(
    "/v1/accounts/{account_id}/invoice-preview",
    response_model=InvoicePreviewPublic,
    summary="Preview an account's next invoices (a dry run: nothing is stored)",
    description="The invoices a bill run on `bill_date` would make for the account, by the same "
    "calculation; 422 with the reason when the account cannot be billed.",
    responses=_NOT_WIRED,
)
async def preview_account_invoice(
    request: Request,
    account_id: AccountId,
    uow: ReadUow,
    bill_date: Annotated[IsoDate | None, Query(description="Default: today (UTC).")] = None,
) -> InvoicePreviewPublic:
    billing = runtime_from(request).require_account_billing()
    when: date = bill_date or uow.business_date("UTC")
    return await handlers.preview_invoice(uow, billing=billing, account_id=account_id, bill_date=when)
