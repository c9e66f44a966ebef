"""Dependencies of the rating routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.service import runtime_of
from libs.platform.settings import Role
from rating.bootstrap import RatingRuntime
from rating.handlers.unit_of_work import RatingUnitOfWork

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _uow_for(*roles: Role) -> Callable[..., Any]:
    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(require_roles(*roles))]
    ) -> AsyncIterator[RatingUnitOfWork]:
        runtime = runtime_of(request)
        assert isinstance(runtime, RatingRuntime)
        async with runtime.rating_unit_of_work(principal) as uow:
            yield uow

    return dependency


ReadUow = Annotated[RatingUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read usage, balances and contracts."""

UsageUow = Annotated[RatingUnitOfWork, Depends(_uow_for(Role.CRM, Role.FINANCE, Role.ERP))]
"""Sending usage, checking entitlements and logging support time: admin, crm, finance and erp
(the network, mediation and apps call with an erp or crm key)."""

UsageCaller = Annotated[Principal, Depends(require_roles(Role.CRM, Role.FINANCE, Role.ERP))]
"""Who may send usage or check entitlements: admin, crm, finance and erp (the route opens its unit
of work: a transaction per attempt, or a read-only one)."""

WriteUow = Annotated[RatingUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Meters, balances and contracts: admin and finance."""


def runtime_from(request: Request) -> RatingRuntime:
    """The rating runtime behind a request (for long operations run outside one unit of work)."""
    runtime = runtime_of(request)
    assert isinstance(runtime, RatingRuntime)
    return runtime


def id_path(description: str) -> Any:
    """A path id; anything that is not an id shape is refused before it reaches the database."""
    return Path(description=description, pattern=ID_PATTERN)
