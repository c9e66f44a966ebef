"""API-key authentication with roles (admin, crm, erp, finance, ops read-only), DESIGN §6.

A key arrives as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Admin may do anything;
each write route names the other roles it admits; every role may read.

Routes declare their roles with `require_roles`; before that, the edge guard
(libs/platform/edge.py) refuses an unknown key with 401 before any body is read, using the same
`principal_for_key`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from libs.platform.settings import Role

_ADMITTED = "admitted_roles"
UNAUTHENTICATED = "A valid API key is required (Authorization: Bearer <key> or X-API-Key)"
_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


class Principal(BaseModel):
    """Who is calling: a key fingerprint (never the key itself) and its role."""

    key_id: str
    role: Role

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.role.value}:{self.key_id}"


def key_fingerprint(key: str) -> str:
    """A short, stable, non-reversible id of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def presented_key(request: HTTPConnection) -> str | None:
    """The API key in the request headers, if any."""
    return presented_key_in(request.headers.raw)


def presented_key_in(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The API key in raw ASGI headers, if any: the first `Authorization: Bearer` value, else the
    first `X-API-Key` (as `presented_key` reads a request's headers)."""
    authorization: bytes | None = None
    api_key: bytes | None = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"authorization" and authorization is None:
            authorization = value
        elif lowered == b"x-api-key" and api_key is None:
            api_key = value
    auth = (authorization or b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return api_key.decode("latin-1") if api_key else None


def principal_for_key(keys: Mapping[str, Role], key: str | None) -> Principal | None:
    """The caller a presented key stands for, or None when the key is missing or unknown."""
    if key:
        for known, role in keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return Principal(key_id=key_fingerprint(key), role=role)
    return None


def _authenticate(request: Request) -> Principal:
    principal = principal_for_key(request.app.state.api_keys, presented_key(request))
    if principal is not None:
        return principal
    raise HTTPException(status_code=401, detail=UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency admitting admin and the given roles."""
    allowed = {Role.ADMIN, *roles}

    async def dependency(
        request: Request,
        _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
        _h: Annotated[str | None, Depends(_header)] = None,
    ) -> Principal:
        principal = _authenticate(request)
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(
                status_code=403,
                detail=f"role {principal.role.value} may not do this; needs one of {names}",
            )
        request.state.principal = principal
        return principal

    setattr(dependency, _ADMITTED, frozenset(allowed))
    return dependency


def admitted_roles_of_call(call: Any) -> frozenset[Role] | None:
    """The roles a dependency callable made by `require_roles` admits (None: not one)."""
    roles = getattr(call, _ADMITTED, None)
    return frozenset(roles) if roles is not None else None


def admitted_roles(dependant: Any) -> frozenset[Role] | None:
    """The roles a route's `require_roles` dependency admits (searched through its FastAPI
    dependency tree), or None when it has none."""
    for dependency in getattr(dependant, "dependencies", ()):
        roles = getattr(dependency.call, _ADMITTED, None)
        if roles is None:
            roles = admitted_roles(dependency)
        if roles is not None:
            return frozenset(roles)
    return None


async def metrics_access(request: Request) -> None:
    """`/metrics` is open when the settings say so (METRICS_PUBLIC), else for ops and admin keys."""
    if request.app.state.runtime.settings.metrics_are_public():
        return
    await require_roles(Role.OPS)(request)


ALL_ROLES = tuple(Role)
Reader = Annotated[Principal, Depends(require_roles(*ALL_ROLES))]
Admin = Annotated[Principal, Depends(require_roles())]
