"""Dependencies of the invoicing routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from invoicing.bootstrap import InvoicingRuntime
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.service import runtime_of
from libs.platform.settings import Role

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _uow_for(*roles: Role) -> Callable[..., Any]:
    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(require_roles(*roles))]
    ) -> AsyncIterator[InvoicingUnitOfWork]:
        runtime = runtime_of(request)
        assert isinstance(runtime, InvoicingRuntime)
        async with runtime.invoicing_unit_of_work(principal) as uow:
            yield uow

    return dependency


ReadUow = Annotated[InvoicingUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read invoices, statements, tax rates and bill runs."""

WriteUow = Annotated[InvoicingUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Bill runs, invoice state changes, tax rates, adjustments and credit notes: admin and finance."""


def runtime_from(request: Request) -> InvoicingRuntime:
    """The invoicing runtime behind a request (for long operations run outside one unit of work)."""
    runtime = runtime_of(request)
    assert isinstance(runtime, InvoicingRuntime)
    return runtime


def id_path(description: str) -> Any:
    """A path id; anything that is not an id shape is refused before it reaches the database."""
    return Path(description=description, pattern=ID_PATTERN)
