"""`/v1/overage-cases`: cases, their workflow actions and the overdue list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from libs.platform.pagination import Page, PageParams
from overage.api.deps import ID_PATTERN, FinanceUow, ReadUow, id_path, runtime_from
from overage.domain.cases import CaseState
from overage.handlers import cases as handlers
from overage.handlers.cases_port import CaseFilters
from overage.schemas.cases import CaseActionRequest, CasePublic, CaseSummary

router = APIRouter(prefix="/v1/overage-cases", tags=["cases"])
CaseId = Annotated[str, id_path("Overage case id (ovc_…).")]


def _deadlines(request: Request) -> dict[str, int]:
    return runtime_from(request).overage_settings.case_deadline_days


@router.get(
    "",
    response_model=Page[CaseSummary],
    summary="List overage cases",
    description="`overdue=true`: only open cases waiting past their state's deadline (days per state, "
    "OVERAGE case_deadline_days); each is escalated once per overdue step (`overage.case_escalated`).",
)
async def list_overage_cases(
    uow: ReadUow,
    page: PageParams,
    request: Request,
    state: Annotated[CaseState | None, Query()] = None,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    open_only: Annotated[bool, Query(alias="open", description="Only open cases.")] = False,
    overdue: Annotated[bool, Query(description="Only open cases past their deadline.")] = False,
) -> Page[CaseSummary]:
    filters = CaseFilters(state=state, account_id=account_id, open_only=open_only)
    return await handlers.list_cases(
        uow=uow, page=page, filters=filters, overdue=overdue, deadline_days=_deadlines(request)
    )


@router.get("/{case_id}", response_model=CasePublic, summary="Get an overage case with its notices and steps")
async def get_overage_case(case_id: CaseId, uow: ReadUow, request: Request) -> CasePublic:
    return await handlers.get_case(uow=uow, case_id=case_id, deadline_days=_deadlines(request))


@router.post(
    "/{case_id}/actions",
    response_model=CasePublic,
    summary="Take a step of the case's workflow",
    description="notified → contact_crm_owner → record_decision (keep | remove) → inform_vendor → "
    "record_vendor_invoice → close. Keep: publishes `overage.licenses_kept` and opens the vendor-paperwork "
    "task (`sign_paperwork`; a kept case closes once it is signed). Remove: `confirm_removal` (or a notice "
    "at or under the licenses) closes the case. An action the state does not allow is a 409.",
)
async def act_on_overage_case(
    case_id: CaseId, body: CaseActionRequest, uow: FinanceUow, request: Request
) -> CasePublic:
    return await handlers.take_action(
        uow=uow, case_id=case_id, command=body, deadline_days=_deadlines(request)
    )
