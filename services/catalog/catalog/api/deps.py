"""Dependencies of the catalog routes: a unit of work acting for an authorised caller.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

from catalog.bootstrap import CatalogRuntime
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from libs.platform.auth import ALL_ROLES
from libs.platform.route_dependencies import ID_PATTERN as ID_PATTERN
from libs.platform.route_dependencies import id_path as id_path
from libs.platform.route_dependencies import runtime_getter, unit_of_work_dependency
from libs.platform.settings import Role

runtime_from = runtime_getter(CatalogRuntime)
"""The catalog runtime behind a request (for long operations run outside one unit of work)."""


def _uow_for(*roles: Role) -> Callable[..., Any]:
    return unit_of_work_dependency(runtime_from, CatalogRuntime.catalog_unit_of_work, *roles)


ReadUow = Annotated[CatalogUnitOfWork, Depends(_uow_for(*ALL_ROLES))]
"""Any role may read the catalog."""

WriteUow = Annotated[CatalogUnitOfWork, Depends(_uow_for(Role.FINANCE))]
"""Catalog changes: admin and finance."""

QuoteUow = Annotated[CatalogUnitOfWork, Depends(_uow_for(Role.CRM, Role.FINANCE))]
"""Quotes: admin, crm and finance."""
