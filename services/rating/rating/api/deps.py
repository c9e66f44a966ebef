"""Dependencies of the rating routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.route_dependencies import ID_PATTERN as ID_PATTERN
from libs.platform.route_dependencies import id_path as id_path
from libs.platform.route_dependencies import runtime_getter, unit_of_work_dependency
from libs.platform.settings import Role
from rating.bootstrap import RatingRuntime
from rating.handlers.unit_of_work import RatingUnitOfWork

runtime_from = runtime_getter(RatingRuntime)
"""The rating runtime behind a request (for long operations run outside one unit of work)."""


def _uow_for(*roles: Role) -> Callable[..., Any]:
    return unit_of_work_dependency(runtime_from, RatingRuntime.rating_unit_of_work, *roles)


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
