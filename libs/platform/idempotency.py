"""`Idempotency-Key` on POST requests (DESIGN §6, §7): exactly once, per API key, for 24 hours.

Same key and the same request → the first response again (its status, its headers such as
`Location`, its body), marked `Idempotent-Replayed: true`; same key and another request → 409
`idempotency_key_reused`; same key while the first request is still running → 409
`idempotency_key_in_flight`.

How a request is applied exactly once
-------------------------------------
1. **Claim.** In a short transaction of its own the middleware inserts the key's row: the
   request's fingerprint, no response yet, and a lease (`lease_id`, `locked_until` =
   now + IDEMPOTENCY_LEASE_S). A row already there answers at once: replay, 409 reused, or 409
   in flight while its lease runs.
2. **The change and the stored response commit in one transaction.** While the request runs,
   `UnitOfWork.commit()` does not commit: it flushes and hands its transaction to the request
   (`IdempotentRequest.adopt`). When the route has answered, the middleware writes the response
   into the key's row *in that same transaction* and commits once, before the client sees the
   answer. The change, its outbox events, its audit rows and the stored response are all there,
   or none of them is:
   - a handler that committed and then failed (a 5xx or an exception) is rolled back and its key
     freed: the retry applies the change once;
   - a process that dies before that commit leaves only the claim: the database drops the
     unfinished change, and once the lease has run out a retry takes the key over.
3. **Fencing.** The final write only succeeds `WHERE lease_id = <this request's lease>`. A request
   so slow that its lease ran out and a retry took the key over finds its lease gone, rolls its
   change back and answers 409: of the two, only one ever commits.
A route that changes nothing (no unit of work committed) stores its response in a short
transaction of its own.

What makes two requests the same: method, path, query string (parameters sorted by name) and
body. JSON bodies are compared as JSON — whitespace and key order do not matter, numbers are
compared as written — any other body byte for byte. Keys are scoped to the caller's API key,
and the edge guard (libs/platform/edge.py) has refused an unknown key with 401 before anything
is replayed. A key lives IDEMPOTENCY_WINDOW_HOURS (24) from its first use; after that it is a
new key (expired rows are purged as keys are claimed). 5xx, 401, 403 and 429 answers are not
stored: the client may retry them with the same key.

A route that streams its body (`edge_body(stream=True)`: a file upload of hundreds of MB) is
never read into memory here. Its body is hashed as the route reads it, and the key is claimed
when the last byte arrives, before the route can commit anything; a key that is taken then
(replay, reused, in flight) ends the route where it reads its body, and that answer is sent
instead. Its body is compared byte for byte, whatever its type. A streaming route that answers
an error before reading its whole body stores nothing (the same request gets the same error);
one that commits a change must read its whole body first.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, LargeBinary, String, Text, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.platform.auth import key_fingerprint, presented_key
from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.edge import declared_body, matched_route, read_body, replaying_receive
from libs.platform.idempotent_requests import HEADER, IdempotentRequest, serving
from libs.platform.problems import problem_response
from libs.platform.request_fingerprints import StreamedFingerprint, request_fingerprint

MAX_KEY_LENGTH = 255
NOT_STORED = frozenset({401, 403, 429})
# Headers that describe one transmission, not the answer: never replayed as they were.
_TRANSPORT_HEADERS = frozenset({"content-length", "date", "server", "transfer-encoding", "connection"})
_PURGE_EVERY_S = 3600.0


class IdempotencyRecord(SQLModel, table=True):
    """The remembered outcome of one idempotent request (or its claim while it runs)."""

    __tablename__ = "idempotency_keys"

    owner: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=MAX_KEY_LENGTH)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    content_type: str | None = Field(default=None, max_length=100)
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    path: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    # JSON list of [name, value] pairs of the stored response.
    response_headers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class _CapturedResponse:
    """The app's answer, held back until the change and the stored response are committed."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def replayable_headers(self) -> list[tuple[str, str]]:
        return [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in self.headers
            if name.decode("latin-1").lower() not in _TRANSPORT_HEADERS
        ]


async def _send_response(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _where_key(owner: str, key: str) -> Any:
    return (col(IdempotencyRecord.owner) == owner) & (col(IdempotencyRecord.key) == key)


class IdempotencyMiddleware:
    """Pure ASGI middleware replaying stored responses for repeated `Idempotency-Key`s on POSTs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._next_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get(HEADER) if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not key or len(key) > MAX_KEY_LENGTH:
            response = problem_response(
                request,
                status=422,
                title="Validation failed",
                code="validation_failed",
                detail=f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters",
            )
            await response(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        db: Database = runtime.db
        credential = presented_key(request)
        owner = key_fingerprint(credential) if credential else "anonymous"
        window = timedelta(hours=runtime.settings.idempotency_window_hours)
        lease = timedelta(seconds=runtime.settings.idempotency_lease_s)
        claim = _Claim(self, db, request, owner, key, window, lease)
        if declared_body(matched_route(scope["app"], scope)).stream:
            await self._serve_streamed(scope, receive, send, claim)
            return
        body = await read_body(receive)
        fingerprint = request_fingerprint(
            request.method,
            request.url.path,
            scope.get("query_string", b"").decode("latin-1"),
            body,
            request.headers.get("content-type"),
        )
        outcome = await self._claim(db, request, owner, key, fingerprint, window, lease)
        if isinstance(outcome, Response):
            await outcome(scope, receive, send)
            return
        lease_id = outcome

        captured = _CapturedResponse()
        with serving(IdempotentRequest()) as request_served:
            try:
                await self.app(scope, replaying_receive(body, receive), captured.send)
            except BaseException:
                # Answered as a 500 further out: undo the change and free the key for a retry.
                await request_served.discard()
                await _release(db, owner, key, lease_id)
                raise
        await _answer(scope, receive, send, claim, request_served, captured, lease_id)

    async def _serve_streamed(self, scope: Scope, receive: Receive, send: Send, claim: _Claim) -> None:
        """A streaming route: hash the body as the route reads it, claim the key at its last byte."""
        request = claim.request
        fingerprint = StreamedFingerprint(
            request.method, request.url.path, scope.get("query_string", b"").decode("latin-1")
        )
        leases: list[str] = []
        whole = False

        async def claim_key() -> None:
            outcome = await claim.take(fingerprint.hexdigest())
            if isinstance(outcome, Response):
                raise _KeyTaken(outcome)
            leases.append(outcome)
            request_served.claimed = True

        async def hashing_receive() -> Message:
            nonlocal whole
            message = await receive()
            if message["type"] == "http.request" and not whole:
                fingerprint.update(message.get("body", b""))
                if not message.get("more_body", False):
                    whole = True
                    await claim_key()  # before the route can commit anything
            return message

        captured = _CapturedResponse()
        with serving(IdempotentRequest(claimed=False)) as request_served:
            try:
                await self.app(scope, hashing_receive, captured.send)
            except BaseException as exc:
                await request_served.discard()
                if leases:
                    await _release(claim.db, claim.owner, claim.key, leases[0])
                taken = _key_taken(exc)
                if taken is None:
                    raise
                await taken.answer(scope, receive, send)
                return
        if not leases:
            if captured.status >= 400:
                # Refused before its body was read whole: nothing to remember, a retry gets the same.
                await request_served.discard()
                await _send_response(send, captured.status, captured.replayable_headers(), captured.body)
                return
            # A success that read not all of its body (and committed nothing): the rest of the
            # body still names the request.
            while not whole:
                message = await receive()
                if message["type"] != "http.request":
                    await request_served.discard()  # the client went away: nobody to answer
                    return
                fingerprint.update(message.get("body", b""))
                whole = not message.get("more_body", False)
            try:
                await claim_key()
            except _KeyTaken as taken:
                await request_served.discard()
                await taken.answer(scope, receive, send)
                return
        await _answer(scope, receive, send, claim, request_served, captured, leases[0])

    async def _claim(
        self,
        db: Database,
        request: Request,
        owner: str,
        key: str,
        fingerprint: str,
        window: timedelta,
        lease: timedelta,
    ) -> str | Response:
        """A new lease on the key, or the answer for a key that is taken."""
        for _ in range(3):
            now = utcnow()
            lease_id = uuid.uuid4().hex
            async with db.session() as session:
                if time.monotonic() >= self._next_purge:
                    self._next_purge = time.monotonic() + _PURGE_EVERY_S
                    await session.exec(
                        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) <= now - window)
                    )
                existing = await session.get(IdempotencyRecord, (owner, key), populate_existing=True)
                if existing is not None and existing.created_at <= now - window:
                    # Expired: the key is new again.
                    await session.exec(
                        delete(IdempotencyRecord).where(
                            _where_key(owner, key), col(IdempotencyRecord.created_at) == existing.created_at
                        )
                    )
                    existing = None
                if existing is None:
                    session.add(
                        IdempotencyRecord(
                            owner=owner,
                            key=key,
                            request_hash=fingerprint,
                            path=request.url.path,
                            created_at=now,
                            lease_id=lease_id,
                            locked_until=now + lease,
                        )
                    )
                    try:
                        await session.commit()
                    except IntegrityError:
                        await session.rollback()
                        continue  # claimed by a concurrent request: look again
                    return lease_id
                answer = _answer_for(request, existing, fingerprint, now, key)
                if answer is not None:
                    return answer
                # Unfinished and its lease ran out (its process died): take it over, if no one
                # else did in between.
                taken = await session.exec(
                    update(IdempotencyRecord)
                    .where(
                        _where_key(owner, key),
                        col(IdempotencyRecord.status_code).is_(None),
                        col(IdempotencyRecord.lease_id).is_(None)
                        if existing.lease_id is None
                        else col(IdempotencyRecord.lease_id) == existing.lease_id,
                    )
                    .values(lease_id=lease_id, locked_until=now + lease)
                )
                await session.commit()
                if taken.rowcount == 1:
                    return lease_id
        return _in_flight(request, key, "is still being processed")


class _Claim:
    """What claiming a key needs, gathered once per request."""

    def __init__(
        self,
        middleware: IdempotencyMiddleware,
        db: Database,
        request: Request,
        owner: str,
        key: str,
        window: timedelta,
        lease: timedelta,
    ) -> None:
        self.middleware = middleware
        self.db = db
        self.request = request
        self.owner = owner
        self.key = key
        self.window = window
        self.lease = lease

    async def take(self, fingerprint: str) -> str | Response:
        """A lease on the key for the request of this fingerprint, or the answer of a taken key."""
        return await self.middleware._claim(
            self.db, self.request, self.owner, self.key, fingerprint, self.window, self.lease
        )


class _KeyTaken(Exception):
    """Raised where a streaming route reads its body: the key answers instead of the route."""

    def __init__(self, answer: Response) -> None:
        super().__init__("the Idempotency-Key is taken")
        self.answer = answer


def _key_taken(exc: BaseException) -> _KeyTaken | None:
    if isinstance(exc, _KeyTaken):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _key_taken(inner)
            if found is not None:
                return found
    return None


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    claim: _Claim,
    serving: IdempotentRequest,
    captured: _CapturedResponse,
    lease_id: str,
) -> None:
    """Store the route's answer with its change (or free the key), then send it."""
    db, owner, key = claim.db, claim.owner, claim.key
    if captured.status >= 500 or captured.status in NOT_STORED:
        # Not an answer to the request itself: nothing of it stays, the client may retry.
        await serving.discard()
        await _release(db, owner, key, lease_id)
    else:
        store = (
            update(IdempotencyRecord)
            .where(_where_key(owner, key), col(IdempotencyRecord.lease_id) == lease_id)
            .values(
                status_code=captured.status,
                content_type=Headers(raw=captured.headers).get("content-type"),
                response_headers=json.dumps(captured.replayable_headers()),
                response_body=captured.body,
                lease_id=None,
                locked_until=None,
            )
        )
        try:
            committed = await serving.commit_with(db, store)
        except BaseException:
            await _release(db, owner, key, lease_id)
            raise
        if not committed:
            superseded = "took over while this one ran too long; this one was not applied"
            await _in_flight(claim.request, key, superseded)(scope, receive, send)
            return
    await _send_response(send, captured.status, captured.replayable_headers(), captured.body)


def _answer_for(
    request: Request, existing: IdempotencyRecord, fingerprint: str, now: datetime, key: str
) -> Response | None:
    """What a taken key answers, or None when its lease ran out and it may be taken over."""
    if existing.request_hash != fingerprint:
        return problem_response(
            request,
            status=409,
            title="Conflict",
            code="idempotency_key_reused",
            detail=f"{HEADER} {key!r} was already used with a different request",
        )
    if existing.status_code is not None:
        headers = json.loads(existing.response_headers) if existing.response_headers else []
        if not headers and existing.content_type:  # stored before headers were kept
            headers = [["content-type", existing.content_type]]
        body = existing.response_body or b""
        replay = Response(content=body, status_code=existing.status_code)
        # Raw pairs, so repeated headers (Set-Cookie, Link) come back as they went out.
        replay.raw_headers = [
            *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers),
            (b"idempotent-replayed", b"true"),
            (b"content-length", str(len(body)).encode()),
        ]
        return replay
    if existing.locked_until is not None and existing.locked_until > now:
        return _in_flight(request, key, "is still being processed")
    return None


def _in_flight(request: Request, key: str, state: str) -> Response:
    return problem_response(
        request,
        status=409,
        title="Conflict",
        code="idempotency_key_in_flight",
        detail=f"a request with {HEADER} {key!r} {state}",
    )


async def _release(db: Database, owner: str, key: str, lease_id: str) -> None:
    """Free a key this request holds (only while it still holds it)."""
    with contextlib.suppress(Exception):
        async with db.session() as session:
            await session.exec(
                delete(IdempotencyRecord).where(
                    _where_key(owner, key),
                    col(IdempotencyRecord.lease_id) == lease_id,
                    col(IdempotencyRecord.status_code).is_(None),
                )
            )
            await session.commit()
