"""The request-scoped side of `Idempotency-Key`: the transaction an idempotent request's change runs in.

The middleware (libs/platform/idempotency.py) serves each idempotent request inside
`serving(request)`; `UnitOfWork.commit()` finds it with `current_idempotent_request()` and hands
its transaction over, so the change and the stored response commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import Database

HEADER = "Idempotency-Key"


class IdempotentRequest:
    """The request-scoped holder of the transaction an idempotent request's change runs in."""

    def __init__(self, *, claimed: bool = True) -> None:
        self.session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []
        self.claimed = claimed
        """False while a streamed request's key waits for the body's last byte."""

    async def adopt(self, session: AsyncSession, on_commit: Callable[[], None] | None) -> None:
        """Take over a unit of work's transaction at its `commit()`: committed with the response."""
        if not self.claimed:
            # Its key is claimed in a transaction of its own once the body is read, and this
            # transaction may hold the database's write lock (SQLite) until the response.
            raise RuntimeError(f"a streaming route with an {HEADER} reads its whole body before it commits")
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


@contextlib.contextmanager
def serving(request: IdempotentRequest) -> Iterator[IdempotentRequest]:
    """Serve `request` in this context: units of work committing inside it hand their transaction over."""
    token = _current.set(request)
    try:
        yield request
    finally:
        _current.reset(token)
