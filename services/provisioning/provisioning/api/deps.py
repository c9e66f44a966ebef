"""What every provisioning route depends on: runtime, units of work, catalog, callers by role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request

from libs.platform.auth import Principal, require_roles
from libs.platform.settings import Role
from provisioning.bootstrap import ProvisioningRuntime
from provisioning.catalog_client import CatalogClient
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork

T = TypeVar("T")


def _runtime(request: Request) -> ProvisioningRuntime:
    runtime: ProvisioningRuntime = request.app.state.runtime
    return runtime


async def _read_uow(
    runtime: Annotated[ProvisioningRuntime, Depends(_runtime)],
) -> AsyncIterator[ProvisioningUnitOfWork]:
    # Reads run in a unit of work too (never committed): handlers know no other way to the data.
    async with runtime.provisioning_unit_of_work() as uow:
        yield uow


def _catalog(runtime: Annotated[ProvisioningRuntime, Depends(_runtime)]) -> CatalogClient:
    return runtime.catalog


RuntimeDep = Annotated[ProvisioningRuntime, Depends(_runtime)]
ReadUow = Annotated[ProvisioningUnitOfWork, Depends(_read_uow)]
CatalogDep = Annotated[CatalogClient, Depends(_catalog)]

# Sales, partner managers and account managers (the CRM) create and change customers, deals,
# orders, fulfillments and named users; finance approves discounts and works its tasks.
Seller = Annotated[Principal, Depends(require_roles(Role.CRM))]
Approver = Annotated[Principal, Depends(require_roles(Role.FINANCE))]
Operator = Annotated[Principal, Depends(require_roles(Role.CRM, Role.FINANCE))]

# No URL part may hold NUL (libs.platform.problems.NulInUrlGuard refuses it): the schema says so.
NO_NUL = r"^[^\x00]*$"
Id = Annotated[str, Path(min_length=1, max_length=60, pattern=NO_NUL, description="An id this API returned.")]


async def in_unit_of_work(
    rt: ProvisioningRuntime, caller: Principal, handler: Callable[..., Awaitable[T]], **arguments: Any
) -> T:
    """Run one handler in a unit of work acting for the caller: what every changing route does."""
    async with rt.provisioning_unit_of_work(caller) as uow:
        return await handler(uow=uow, actor=caller.actor, **arguments)
