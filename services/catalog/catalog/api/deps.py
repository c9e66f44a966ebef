"""Dependencies of the catalog routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from catalog.bootstrap import CatalogRuntime
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from libs.platform.auth import ALL_ROLES, Principal, require_roles
from libs.platform.service import runtime_of
from libs.platform.settings import Role

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _uow_for(*roles: Role) -> Callable[..., Any]:
    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(require_roles(*roles))]
    ) -> AsyncIterator[CatalogUnitOfWork]:
        runtime = runtime_of(request)
        assert isinstance(runtime, CatalogRuntime)
        async with runtime.catalog_unit_of_work(principal) as uow:
            yield uow

    return dependency


ReadUow = Annotated[CatalogUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read the catalog."""

WriteUow = Annotated[CatalogUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Catalog changes: admin and finance."""

QuoteUow = Annotated[CatalogUnitOfWork, Depends(_uow_for(Role.CRM, Role.FINANCE))]
"""Quotes: admin, crm and finance."""


def id_path(description: str) -> Any:
    """A path id; anything that is not an id shape is refused before it reaches the database."""
    return Path(description=description, pattern=ID_PATTERN)
