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


def _uow_for(*roles: Role) -> Callable[..., Any]:
    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(require_roles(*roles))]
    ) -> AsyncIterator[OverageUnitOfWork]:
        runtime = runtime_of(request)
        assert isinstance(runtime, OverageRuntime)
        async with runtime.overage_unit_of_work(principal) as uow:
            yield uow

    return dependency


ReadUow = Annotated[OverageUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read."""

FinanceUow = Annotated[OverageUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Commitments, approvals and payments: admin and finance."""

PayablesUow = Annotated[OverageUnitOfWork, Depends(_uow_for(Role.FINANCE, Role.ERP))]
"""Receiving vendor invoices: finance enters them, the vendor's feed posts them with an ERP key."""


def id_path(description: str) -> Any:
    """A path id; anything that is not an id shape is refused before it reaches the database."""
    return Path(description=description, pattern=ID_PATTERN)
