"""Hot JSON routes: a FastAPI route whose well-formed, authorised requests skip FastAPI's machinery.

A route called thousands of times a second (an entitlement check) spends most of its CPU in
the framework around it rather than in its own work: the edge's route matching, FastAPI's
routing, its dependency solving and body handling, the exception layers. A route marked
`hot_json(answer)` keeps its FastAPI declaration — its OpenAPI operation, its models, its
`require_roles` dependency — and its endpoint still answers every request the fast path does
not; `HotRoutes` (pure ASGI, inside `RequestContextMiddleware`, so request ids and metrics are
the same) answers the request itself only when all of this holds:

- the method and the path are the route's exactly, with no query string;
- no `Idempotency-Key` header (the idempotency layer handles those);
- no card number in the path, the headers (checked as the edge does) or the body;
- the key is known and its role is one the route's `require_roles` admits (the same
  `principal_for_key`; the roles are read from the route's dependency, never restated);
- the body is within the route's limit (`route_body_limit`, as the edge computes it) and, if
  the route is member-capped, within its JSON member cap;
- the content type is JSON (or none) and the body, read with `loads_exact` as every route
  reads it, passes the route's own body field's validation (the same validator FastAPI runs).

Anything else is handed, with the body already read, to the full stack behind (NUL guard,
edge, idempotency, FastAPI), which answers it as it always has: a missing or wrong key is the
edge's 401, a role not admitted the route's 403, a bad body FastAPI's 422 — the same
problem+json, by the same code. Nothing is bypassed: the fast path only serves what the full
stack would have served, and computes the answer with the same function (`answer`) the
route's endpoint calls. A `DomainError` the answer raises is rendered by the app's own
exception handler for it; any other error goes up to the app's server-error handler, as from
the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.platform.auth import (
    Principal,
    admitted_roles,
    admitted_roles_of_call,
    presented_key_in,
    principal_for_key,
)
from libs.platform.card_numbers import body_card_fields, url_and_header_card_fields
from libs.platform.edge import (
    declared_body,
    json_member_cap,
    json_members_over,
    read_bounded,
    replaying_receive,
    route_body_limit,
)
from libs.platform.errors import DomainError
from libs.platform.idempotent_requests import HEADER as IDEMPOTENCY_HEADER
from libs.platform.json_body import loads_exact

HotAnswer = Callable[[Any, Principal, Any], Awaitable[bytes]]
"""`answer(runtime, principal, body)`: the JSON bytes of a 200 answer (raises a DomainError)."""
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_HOT: Final = "hot_json_answer"
_IDEMPOTENCY = IDEMPOTENCY_HEADER.lower().encode("latin-1")
_JSON_HEADERS: Final = ((b"content-type", b"application/json"),)


def hot_json(answer: HotAnswer) -> Callable[[Endpoint], Endpoint]:
    """Mark a route's endpoint as hot: `HotRoutes` serves its plain requests with `answer`,
    which the endpoint itself must call too (one way to compute the answer)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _HOT, answer)
        return endpoint

    return mark


@dataclass(frozen=True)
class HotRoute:
    """What the fast path needs of one marked route, read once from its FastAPI declaration."""

    method: str
    path: str
    route: Any
    """What FastAPI puts in `scope["route"]` for it (metrics label requests by its path)."""
    answer: HotAnswer
    roles: frozenset[Any]
    validate: Callable[..., tuple[Any, list[Any]]]
    body_limit: int
    member_cap: int | None


def hot_routes_of(app: Any) -> dict[tuple[str, str], HotRoute]:
    """Every `hot_json` route of `app` by (method, path); a marked route without `require_roles`
    or a body model is a programming error, refused here."""
    settings = app.state.runtime.settings
    found: dict[tuple[str, str], HotRoute] = {}
    for context in iter_route_contexts(app.routes):
        answer = getattr(context.endpoint, _HOT, None)
        if answer is None:
            continue
        dependant = context.dependant
        roles = admitted_roles(dependant)
        body_field = getattr(context, "body_field", None)
        path = context.path
        if roles is None or body_field is None or path is None:
            raise ValueError(f"hot route {context.path}: needs a require_roles dependency and a body model")
        if not _only_roles_and_body(dependant):
            raise ValueError(
                f"hot route {path}: the fast path would skip its other parameters or dependencies; "
                "a hot route takes only its body, the request and its require_roles caller"
            )
        limit = route_body_limit(context, settings)
        cap = json_member_cap(
            declared_body(context), limit, settings.max_json_members, settings.max_body_bytes
        )
        for method in context.methods or ():
            found[(method, path)] = HotRoute(
                method=method,
                path=path,
                route=context.original_route,
                answer=answer,
                roles=roles,
                validate=body_field.validate,
                body_limit=limit,
                member_cap=cap,
            )
    return found


def _only_roles_and_body(dependant: Any) -> bool:
    """Whether the route asks for nothing the fast path does not do itself: no path, query,
    header or cookie parameters, one body, and no dependency but its `require_roles`."""
    params = (dependant.path_params, dependant.query_params, dependant.header_params, dependant.cookie_params)
    if any(params) or len(dependant.body_params) != 1:
        return False
    return all(admitted_roles_of_call(dependency.call) is not None for dependency in dependant.dependencies)


class HotRoutes:
    """Pure ASGI middleware serving the plain requests of `hot_json` routes (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[tuple[str, str], HotRoute] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._routes is None:
            # Routes are all in place once requests arrive.
            self._routes = hot_routes_of(scope["app"])
        hot = self._routes.get((scope["method"], scope["path"]))
        if hot is None or scope["query_string"] or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        principal = _plain_request_principal(scope, hot)
        if principal is None:  # the full stack answers (or refuses) it, unread
            await self.app(scope, receive, send)
            return
        read = await read_bounded(receive, hot.body_limit)
        if read.body is None:  # over the limit (the edge refuses it: 413) or the client went away
            await self.app(scope, read.receive, send)
            return
        body, receive = read.body, read.receive
        value = _valid_body(scope, hot, body)
        if value is None:
            await self.app(scope, replaying_receive(body, receive), send)
            return
        scope["route"] = hot.route
        try:
            answer = await hot.answer(scope["app"].state.runtime, principal, value)
        except DomainError as exc:
            response = await _domain_error_response(scope, exc)
            await response(scope, replaying_receive(body, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(answer)).encode()), *_JSON_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": answer})


def _plain_request_principal(scope: Scope, hot: HotRoute) -> Principal | None:
    """The caller, when the request's headers are plain (no idempotency key, no card number) and
    its key's role is admitted; else None (the full stack answers)."""
    headers = scope["headers"]
    content_type = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == _IDEMPOTENCY:
            return None
        if lowered == b"content-type":
            content_type = value
        elif lowered == b"content-length" and not (value.isdigit() and int(value) <= hot.body_limit):
            return None  # declared over the limit (the edge refuses it unread) or malformed
    media = content_type.split(b";")[0].strip().lower()
    if media not in {b"", b"application/json"}:
        return None
    if url_and_header_card_fields(scope["path"], b"", headers):
        return None
    principal = principal_for_key(scope["app"].state.api_keys, presented_key_in(headers))
    if principal is None or principal.role not in hot.roles:
        return None
    return principal


def _valid_body(scope: Scope, hot: HotRoute, body: bytes) -> Any | None:
    """The validated body model, or None when the full stack must answer (it refuses)."""
    if body_card_fields(body, "application/json"):
        return None
    if hot.member_cap is not None and json_members_over(body, hot.member_cap):
        return None
    try:
        parsed = loads_exact(body)
    except ValueError:
        return None
    value, errors = hot.validate(parsed, {}, loc=("body",))
    return None if errors else value


async def _domain_error_response(scope: Scope, exc: DomainError) -> Any:
    """The app's own answer to `exc` (its exception handler, looked up as Starlette does)."""
    handlers = scope["app"].exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return await handlers[cls](Request(scope), exc)
    raise exc
