"""What every service's routes depend on, defined once: the service's runtime behind a request, a
unit of work opened for a caller of the given roles, and the shape of an id in a URL path.

No `from __future__ import annotations` here: FastAPI must see the closure's real annotations.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request

from libs.platform.auth import Principal, require_roles
from libs.platform.service import ServiceRuntime, runtime_of
from libs.platform.settings import Role

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
"""An id in a URL path (`acct_…`, or another system's, up to 64 characters)."""

RuntimeT = TypeVar("RuntimeT", bound=ServiceRuntime)
UnitOfWorkT = TypeVar("UnitOfWorkT")


def id_path(description: str) -> Any:
    """A path id; anything that is not an id shape is refused before it reaches the database."""
    return Path(description=description, pattern=ID_PATTERN)


def runtime_getter(runtime_type: type[RuntimeT]) -> Callable[[Request], RuntimeT]:
    """`runtime_from(request)`: the service's runtime (a `runtime_type`) behind a request."""

    def runtime_from(request: Request) -> RuntimeT:
        runtime = runtime_of(request)
        assert isinstance(runtime, runtime_type)
        return runtime

    return runtime_from


def unit_of_work_dependency(
    runtime_from: Callable[[Request], RuntimeT],
    open_unit_of_work: Callable[[RuntimeT, Principal], AbstractAsyncContextManager[UnitOfWorkT]],
    *roles: Role,
) -> Callable[..., Any]:
    """A dependency yielding a unit of work that acts for the caller, who must hold one of `roles`
    (admin always may)."""

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(require_roles(*roles))]
    ) -> AsyncIterator[UnitOfWorkT]:
        async with open_unit_of_work(runtime_from(request), principal) as uow:
            yield uow

    return dependency
