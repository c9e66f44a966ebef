"""Dependencies of the overage routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

from libs.platform.auth import ALL_ROLES
from libs.platform.route_dependencies import ID_PATTERN as ID_PATTERN
from libs.platform.route_dependencies import id_path as id_path
from libs.platform.route_dependencies import runtime_getter, unit_of_work_dependency
from libs.platform.settings import Role
from overage.bootstrap import OverageRuntime
from overage.handlers.unit_of_work import OverageUnitOfWork

runtime_from = runtime_getter(OverageRuntime)
"""The overage runtime behind a request (for long operations run outside one unit of work)."""


def _uow_for(*roles: Role) -> Callable[..., Any]:
    return unit_of_work_dependency(runtime_from, OverageRuntime.overage_unit_of_work, *roles)


ReadUow = Annotated[OverageUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read vendors, tenants, notices, cases, commitments, vendor invoices and margins."""

FinanceUow = Annotated[OverageUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Vendors, secrets, tenant mappings, case actions, commitments, approvals and payments:
admin and finance."""

PayablesUow = Annotated[OverageUnitOfWork, Depends(_uow_for(Role.FINANCE, Role.ERP))]
"""Receiving vendor invoices: finance enters them, the vendor's feed posts them with an ERP key."""
