"""`Idempotency-Key` on creating POSTs (DESIGN §6): same key and same body → the first response
replayed; same key and another body → 409; a request still in flight with that key → 409.

Keys are scoped to the caller's API key, so two clients never see each other's responses.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from libs.platform.auth import key_fingerprint, presented_key
from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.problems import problem_response

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyRecord(SQLModel, table=True):
    """The remembered outcome of one idempotent request."""

    __tablename__ = "idempotency_keys"

    owner: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=MAX_KEY_LENGTH)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    content_type: str | None = Field(default=None, max_length=100)
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    path: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """Hash of what makes two requests 'the same request'."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


async def _forget(db: Database, owner: str, key: str) -> None:
    async with db.session() as session:
        await session.exec(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.owner) == owner, col(IdempotencyRecord.key) == key
            )
        )
        await session.commit()


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """Replays stored responses for repeated `Idempotency-Key`s on POST requests."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return await call_next(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return problem_response(
                request,
                status=422,
                title="Validation failed",
                code="validation_failed",
                detail=f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters",
            )
        db: Database = request.app.state.runtime.db
        credential = presented_key(request)
        owner = key_fingerprint(credential) if credential else "anonymous"
        body = await request.body()
        fingerprint = request_fingerprint(request.method, request.url.path, body)

        async with db.session() as session:
            session.add(
                IdempotencyRecord(
                    owner=owner,
                    key=key,
                    request_hash=fingerprint,
                    path=request.url.path,
                    created_at=utcnow(),
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                existing = (
                    await session.exec(
                        select(IdempotencyRecord).where(
                            col(IdempotencyRecord.owner) == owner, col(IdempotencyRecord.key) == key
                        )
                    )
                ).one()
                if existing.request_hash != fingerprint:
                    return problem_response(
                        request,
                        status=409,
                        title="Conflict",
                        code="idempotency_key_reused",
                        detail=f"{HEADER} {key!r} was already used with a different request",
                    )
                if existing.status_code is None:
                    return problem_response(
                        request,
                        status=409,
                        title="Conflict",
                        code="idempotency_key_in_flight",
                        detail=f"a request with {HEADER} {key!r} is still being processed",
                    )
                return Response(
                    content=existing.response_body or b"",
                    status_code=existing.status_code,
                    media_type=existing.content_type,
                    headers={"Idempotent-Replayed": "true"},
                )

        try:
            response = await call_next(request)
            chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        except BaseException:
            # An unexpected error (answered as a 500 further out): free the key for a retry.
            await _forget(db, owner, key)
            raise
        content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        if response.status_code >= 500 or response.status_code in {401, 403, 429}:
            # Not an answer to the request itself: let the client retry with the same key.
            await _forget(db, owner, key)
        else:
            async with db.session() as session:
                record = await session.get(IdempotencyRecord, (owner, key))
                if record is not None:
                    record.status_code = response.status_code
                    record.content_type = response.headers.get("content-type")
                    record.response_body = content
                    session.add(record)
                await session.commit()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(content=content, status_code=response.status_code, headers=headers)
