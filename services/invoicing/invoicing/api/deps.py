"""Dependencies of the invoicing routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

from invoicing.bootstrap import InvoicingRuntime
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.platform.auth import ALL_ROLES
from libs.platform.route_dependencies import ID_PATTERN as ID_PATTERN
from libs.platform.route_dependencies import id_path as id_path
from libs.platform.route_dependencies import runtime_getter, unit_of_work_dependency
from libs.platform.settings import Role

runtime_from = runtime_getter(InvoicingRuntime)
"""The invoicing runtime behind a request (for long operations run outside one unit of work)."""


def _uow_for(*roles: Role) -> Callable[..., Any]:
    return unit_of_work_dependency(runtime_from, InvoicingRuntime.invoicing_unit_of_work, *roles)


ReadUow = Annotated[InvoicingUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read invoices, statements, tax rates and bill runs."""

WriteUow = Annotated[InvoicingUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Bill runs, invoice state changes, tax rates, adjustments and credit notes: admin and finance."""
