"""The edge: what every request passes before a route, the idempotency layer or a model sees it.

1. **Authenticate first.** A request for a protected route — every route but the public paths
   (`PUBLIC_PATHS`, `/metrics` when METRICS_PUBLIC allows, and what a service adds, such as a
   signed webhook) — with no key or an unknown key is answered 401 before one byte of its body
   is read. So an anonymous client cannot make a service read and hold a body, and malformed
   JSON from an unauthenticated caller is a 401, not a 422. Roles are still checked by each
   route's `require_roles` (403).
2. **Bound the body.** A body may hold at most MAX_BODY_BYTES (1 MiB) unless its route declares
   more with FastAPI's own route parameter, e.g.
   `@router.post("/v1/usage/batches", max_body_size=16 * MIB)` (a router can declare it for all
   its routes). Over the limit is a 413 problem+json: refused unread when `Content-Length` says
   so, and as soon as a streamed body passes the limit otherwise. The body is then handed on
   from memory (it is at most the limit), so nothing behind this guard reads the socket again.
3. **Bound the JSON.** A JSON body may hold at most MAX_JSON_MEMBERS object members in all
   (10,000; a route with a larger body limit gets proportionally more). Counting them costs one
   C-speed parse; without the cap a 1 MiB body of 100,000 unknown keys costs seconds of
   validation and one error each. Over the cap is a 422 problem+json, before pydantic runs.
4. **Refuse card numbers.** A card number (libs/platform/card_numbers.py has the rule) in the
   path, the query, a header or the body is a 422 problem+json naming the field, never the
   number — checked here, before any route, idempotency record, audit row or log line sees the
   request (the URL and headers before the key is checked: a 404's `instance` would echo a path).
   A streamed body is searched chunk by chunk as the route reads it (a number split across two
   chunks included); the route's read raises the 422 before the last chunk, so an idempotency
   key is never claimed and the route discards what it spooled.

A route may say more about its body with `edge_body(...)` on its endpoint (below the route
decorator), and every other route keeps the defaults:

    @router.post("/v1/usage", max_body_size=16 * MIB)
    @edge_body(json_members=None)   # the route bounds the cost of its own parsing
    async def record_usage(request: Request, ...): ...

- `json_members=N` sets the route's member cap (instead of the proportional one), and
  `json_members=None` skips the count: for a hot path that validates its body in bounded time
  itself (an extra parse of megabytes would cost more than its validation);
- `stream=True` hands the route the body as it arrives instead of reading it into memory first
  (a file upload of hundreds of MB): the `Content-Length` check still refuses a declared
  oversize body unread, a streamed one ends with 413 (`BodyTooLarge`, raised where the route
  reads its body) as soon as it passes the limit, and no member count is made;
- `max_body_setting="usage_file_max_bytes"` takes the route's body limit from that setting of
  the service (an operator's choice, unlike a route's `max_body_size` fixed in the code).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from fastapi.routing import RouteContext, iter_route_contexts
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.platform.auth import UNAUTHENTICATED, presented_key, principal_for_key
from libs.platform.card_numbers import (
    REFUSAL_DETAIL,
    StreamScanner,
    body_card_fields,
    card_number_refusal,
    mask_card_numbers,
    url_and_header_card_fields,
)
from libs.platform.errors import DomainError
from libs.platform.problems import problem_response

MIB = 1024 * 1024
# Health, the docs and the schema answer anyone; everything else needs an API key.
PUBLIC_PATHS = ("/healthz", "/readyz", "/docs", "/openapi.json", "/static/swagger-ui")
METRICS_PATH = "/metrics"


def public_paths(*, metrics_public: bool, extra: Iterable[str] = ()) -> frozenset[str]:
    """The route paths (templates) that need no API key."""
    paths = set(PUBLIC_PATHS) | set(extra)
    if metrics_public:
        paths.add(METRICS_PATH)
    return frozenset(paths)


def matched_route(app: Any, scope: Scope) -> RouteContext | None:
    """The route of `app` that will serve this request (method included), if any."""
    routes: list[RouteContext] | None = getattr(app.state, "edge_routes", None)
    if routes is None:
        # Routes are all in place once requests arrive; flatten the included routers once.
        routes = app.state.edge_routes = list(iter_route_contexts(app.routes))
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


_EDGE_BODY: Final = "edge_body"
SCALED: Final = "scaled"
"""The default member cap: MAX_JSON_MEMBERS, times the route's body limit in default limits."""
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class EdgeBody:
    """What a route declared about its body (see the module): its member cap, whether it streams."""

    json_members: int | Literal["scaled"] | None = SCALED
    stream: bool = False
    max_body_setting: str | None = None


def edge_body(
    *,
    json_members: int | Literal["scaled"] | None = SCALED,
    stream: bool = False,
    max_body_setting: str | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """Declare on a route's endpoint its JSON member cap (None: not counted), that it streams its
    body, or the setting that holds its body limit."""
    valid = json_members in {None, SCALED} or (
        isinstance(json_members, int) and not isinstance(json_members, bool) and json_members >= 1
    )
    if not valid:
        raise ValueError("json_members is a positive integer, 'scaled', or None to skip the count")
    declared = EdgeBody(json_members, stream, max_body_setting)

    def declare(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _EDGE_BODY, declared)
        return endpoint

    return declare


def declared_body(route: RouteContext | None) -> EdgeBody:
    """What the route's endpoint declared with `edge_body`, else the defaults."""
    declared = getattr(getattr(route, "endpoint", None), _EDGE_BODY, None)
    return declared if isinstance(declared, EdgeBody) else EdgeBody()


def json_member_cap(declared: EdgeBody, limit: int, default_members: int, default_limit: int) -> int | None:
    """The route's member cap: declared, else the default scaled by its body limit (None: no count)."""
    if declared.json_members != SCALED:
        return declared.json_members
    return default_members * max(1, limit // max(default_limit, 1))


def body_limit(route: RouteContext | None, default: int) -> int:
    """The route's declared `max_body_size`, else the service's default."""
    declared = getattr(route, "max_body_size", None)
    return declared if isinstance(declared, int) else default


def route_body_limit(route: RouteContext | None, settings: Any) -> int:
    """The route's body limit: its `max_body_setting`'s value, its `max_body_size`, else the default."""
    setting = declared_body(route).max_body_setting
    if setting is not None:
        return int(getattr(settings, setting))
    return body_limit(route, settings.max_body_bytes)


class BodyTooLarge(DomainError):
    """A streamed body passed its route's limit while the route read it (413)."""

    status = 413
    title = "Content too large"
    code = "content_too_large"


def bounded_receive(receive: Receive, limit: int, detail: str) -> Receive:
    """A `receive` that raises `BodyTooLarge` as soon as the body passes `limit` bytes."""
    size = 0

    async def bounded() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(detail)
        return message

    return bounded


def card_scanning_receive(receive: Receive) -> Receive:
    """A `receive` that raises the card-number 422 as soon as the streamed body shows one."""
    scanner = StreamScanner()

    async def scanning() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            last = not message.get("more_body", False)
            found = scanner.feed(message.get("body", b""), last=last)
            if found is not None:
                raise card_number_refusal([("body", found.last_four)])
        return message

    return scanning


def replaying_receive(body: bytes, receive: Receive, *, more_body: bool = False) -> Receive:
    """A `receive` that hands over an already read body (the whole body, or its start with
    `more_body`), then reads on from the real one (the rest, or a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more_body}
        return await receive()

    return replay


@dataclass(frozen=True)
class BoundedBody:
    """A request body read up to a limit, and the `receive` that reads on from where it stopped."""

    body: bytes | None
    """The whole body; None when it passed the limit or the client went away first."""
    over_limit: bool
    receive: Receive
    """What was read, then the rest as it came (more of the body, or the disconnect)."""


async def read_bounded(receive: Receive, limit: int) -> BoundedBody:
    """Read the body until it ends, passes `limit` bytes, or the client goes away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return BoundedBody(None, False, replaying_receive(b"".join(chunks), _then(message)))
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            return BoundedBody(None, True, replaying_receive(b"".join(chunks), receive, more_body=True))
        if not message.get("more_body", False):
            return BoundedBody(b"".join(chunks), False, receive)


async def read_body(receive: Receive) -> bytes:
    """The whole request body (bounded already by `EdgeGuard`)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class _TooManyMembers(Exception):
    pass


def json_members_over(body: bytes, cap: int) -> bool:
    """True when the JSON document holds more than `cap` object members (stops parsing there)."""
    count = 0

    def count_members(pairs: list[tuple[str, Any]]) -> None:
        nonlocal count
        count += len(pairs)
        if count > cap:
            raise _TooManyMembers
        # The parsed value is thrown away; only the count matters.

    try:
        json.loads(body, object_pairs_hook=count_members)
    except _TooManyMembers:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON: the route reports it as it always has
    return False


def _is_json(headers: Headers) -> bool:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in {"", "application/json"} or content_type.endswith("+json")


class EdgeGuard:
    """Pure ASGI middleware: 401 before the body, 413 over the body limit, 422 over the JSON cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        settings = app.state.runtime.settings
        card_fields = url_and_header_card_fields(scope["path"], scope["query_string"], scope["headers"])
        if card_fields:
            await _refuse_card_numbers(scope, receive, send, card_fields)
            return
        route = matched_route(app, scope)
        if _needs_key(app, route) and not _known_key(app, scope):
            await _refuse(scope, receive, send, 401, "Unauthorized", "unauthorized", UNAUTHENTICATED)
            return
        limit = route_body_limit(route, settings)
        too_large = f"The request body is larger than this route's limit of {limit} bytes"
        headers = Headers(scope=scope)
        if _declared_length(headers) > limit:
            await _refuse(scope, receive, send, 413, "Content too large", "content_too_large", too_large)
            return
        declared = declared_body(route)
        if declared.stream:
            await self.app(scope, card_scanning_receive(bounded_receive(receive, limit, too_large)), send)
            return
        read = await read_bounded(receive, limit)
        if read.over_limit:
            await _refuse(scope, receive, send, 413, "Content too large", "content_too_large", too_large)
            return
        if read.body is None:  # the client went away: pass that on to the app as it came
            await self.app(scope, read.receive, send)
            return
        body = read.body
        card_fields = body_card_fields(body, headers.get("content-type", ""))
        if card_fields:
            await _refuse_card_numbers(scope, receive, send, card_fields)
            return
        members = json_member_cap(declared, limit, settings.max_json_members, settings.max_body_bytes)
        if members is not None and body and _is_json(headers) and json_members_over(body, members):
            detail = f"A JSON body may hold at most {members} object members in all"
            await _refuse(scope, receive, send, 422, "Validation failed", "validation_failed", detail)
            return
        await self.app(scope, replaying_receive(body, receive), send)


def _needs_key(app: Any, route: RouteContext | None) -> bool:
    # An unmatched path or method is answered 404/405 by the router without reading the body.
    return route is not None and getattr(route, "path", None) not in app.state.public_paths


def _known_key(app: Any, scope: Scope) -> bool:
    return principal_for_key(app.state.api_keys, presented_key(HTTPConnection(scope))) is not None


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, title: str, code: str, detail: str
) -> None:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 413:
        # The client may still be sending: close the connection rather than read the rest.
        headers = {"Connection": "close"}
    response = problem_response(
        Request(scope), status=status, title=title, code=code, detail=detail, headers=headers
    )
    await response(scope, receive, send)


async def _refuse_card_numbers(
    scope: Scope, receive: Receive, send: Send, fields: list[tuple[str, str]]
) -> None:
    refusal = card_number_refusal(fields)
    request = Request(scope)
    response = problem_response(
        request,
        status=422,
        title=refusal.title,
        code=refusal.code,
        detail=REFUSAL_DETAIL,
        errors=refusal.errors,
        instance=mask_card_numbers(request.url.path),
    )
    await response(scope, receive, send)


def _then(message: Message) -> Receive:
    async def receive() -> Message:
        return message

    return receive
