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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Column, LargeBinary, String, Text, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.platform.auth import key_fingerprint, presented_key
from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.edge import read_body, replaying_receive
from libs.platform.problems import problem_response

HEADER = "Idempotency-Key"
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


class _Number(str):
    """A JSON number kept as written, so `1.0` and `1` stay different requests."""


def _canonical_json(value: Any) -> str:
    if isinstance(value, _Number):
        return str.__str__(value)
    if isinstance(value, dict):
        members = (f"{json.dumps(k)}:{_canonical_json(value[k])}" for k in sorted(value))
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical_json(v) for v in value) + "]"
    return json.dumps(value)


def canonical_body(body: bytes, content_type: str | None) -> bytes:
    """The body as compared: canonical JSON for a JSON body, else the bytes as they came."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in {"", "application/json"} or media.endswith("+json"):
        try:
            parsed = json.loads(body, parse_float=_Number, parse_int=_Number, parse_constant=_Number)
            return b"json\0" + _canonical_json(parsed).encode()
        except (ValueError, RecursionError):
            pass
    return b"bytes\0" + body


def request_fingerprint(
    method: str, path: str, query_string: str, body: bytes, content_type: str | None
) -> str:
    """Hash of what makes two requests 'the same request'."""
    pairs = sorted(parse_qsl(query_string, keep_blank_values=True), key=lambda pair: pair[0])
    digest = hashlib.sha256()
    for part in (
        method.encode(),
        path.encode(),
        urlencode(pairs).encode(),
        canonical_body(body, content_type),
    ):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


class IdempotentRequest:
    """The request-scoped holder of the transaction an idempotent request's change runs in."""

    def __init__(self) -> None:
        self.session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []

    async def adopt(self, session: AsyncSession, on_commit: Callable[[], None] | None) -> None:
        """Take over a unit of work's transaction at its `commit()`: committed with the response."""
        await session.flush()  # constraint errors surface in the handler, as with a commit
        if self.session is not None and self.session is not session:
            raise RuntimeError(f"a request with an {HEADER} may commit one unit of work only")
        self.session = session
        if on_commit is not None and on_commit not in self._after_commit:
            self._after_commit.append(on_commit)

    def owns(self, session: AsyncSession) -> bool:
        """Whether this request has taken `session` over (the unit of work must not close it)."""
        return self.session is session

    async def discard(self) -> None:
        """Roll back the adopted change, if any."""
        if self.session is not None:
            session, self.session = self.session, None
            with contextlib.suppress(Exception):
                await session.rollback()
            with contextlib.suppress(Exception):
                await session.close()

    async def commit_with(self, db: Database, stored: Any) -> bool:
        """Write the response (`stored`, an UPDATE fenced by the lease) and commit with the change.

        False when the fence found another request's lease: nothing is committed then.
        """
        session = self.session or db.sessions()
        self.session = None
        try:
            result = await session.exec(stored)
            if result.rowcount != 1:
                await session.rollback()
                return False
            await session.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await session.rollback()
            raise
        finally:
            with contextlib.suppress(Exception):
                await session.close()
        for wake_up in self._after_commit:
            wake_up()
        return True


_current: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)


def current_idempotent_request() -> IdempotentRequest | None:
    """The idempotent request being served in this context, if any (read by `UnitOfWork`)."""
    return _current.get()


@contextlib.contextmanager
def detached_from_request() -> Iterator[None]:
    """Let units of work commit on their own inside an idempotent request.

    For a long operation of many transactions that is idempotent by itself (a period close):
    its chunks commit as they go instead of being handed to the request, which may take one
    transaction only; the request's stored response then commits in a transaction of its own.
    """
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


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
        body = await read_body(receive)
        fingerprint = request_fingerprint(
            request.method,
            request.url.path,
            scope.get("query_string", b"").decode("latin-1"),
            body,
            request.headers.get("content-type"),
        )
        window = timedelta(hours=runtime.settings.idempotency_window_hours)
        lease = timedelta(seconds=runtime.settings.idempotency_lease_s)
        outcome = await self._claim(db, request, owner, key, fingerprint, window, lease)
        if isinstance(outcome, Response):
            await outcome(scope, receive, send)
            return
        lease_id = outcome

        serving = IdempotentRequest()
        token = _current.set(serving)
        captured = _CapturedResponse()
        try:
            await self.app(scope, replaying_receive(body, receive), captured.send)
        except BaseException:
            # Answered as a 500 further out: undo the change and free the key for a retry.
            await serving.discard()
            await _release(db, owner, key, lease_id)
            raise
        finally:
            _current.reset(token)

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
                await _in_flight(request, key, superseded)(scope, receive, send)
                return
        await _send_response(send, captured.status, captured.replayable_headers(), captured.body)

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
