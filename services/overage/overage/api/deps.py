"""Dependencies of the overage routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.service import runtime_of
from libs.platform.settings import Role
from overage.bootstrap import OverageRuntime
from overage.handlers.unit_of_work import OverageUnitOfWork

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def runtime_from(request: Request) -> OverageRuntime:
    """The overage runtime behind a request."""
    runtime = runtime_of(request)
    assert isinstance(runtime, OverageRuntime)
    return runtime


def _uow_for(*roles: Role) -> Callable[..., Any]:
    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(require_roles(*roles))]
    ) -> AsyncIterator[OverageUnitOfWork]:
        async with runtime_from(request).overage_unit_of_work(principal) as uow:
            yield uow

    return dependency


ReadUow = Annotated[OverageUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read vendors, tenants, notices, cases, commitments, vendor invoices and margins."""

FinanceUow = Annotated[OverageUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Vendors, secrets, tenant mappings, case actions, commitments, approvals and payments:
admin and finance."""

PayablesUow = Annotated[OverageUnitOfWork, Depends(_uow_for(Role.FINANCE, Role.ERP))]
"""Receiving vendor invoices: finance enters them, the vendor's feed posts them with an ERP key."""


def id_path(description: str) -> Any:
    """A path id; anything that is not an id shape is refused before it reaches the database."""
    return Path(description=description, pattern=ID_PATTERN)
