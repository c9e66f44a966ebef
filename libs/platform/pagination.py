"""Cursor pagination, one way for every list endpoint (DESIGN §6).

Ids are time-sortable, so a page is `id > cursor ORDER BY id LIMIT n`; the cursor is the last
id of the page, opaque to the client.

What a cursor is, as the OpenAPI document says it: unpadded base64url (`CURSOR_PATTERN`). A
string outside that pattern is a 422; every string inside it names a position in the order, so
a request valid by the schema is never refused for its cursor.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
# The longest sort key (a 120-character user id, up to 4 UTF-8 bytes each) encodes to 640.
MAX_CURSOR_LENGTH = 1024


class Page(BaseModel, Generic[T]):
    """One page of a list and the cursor of the next one."""

    data: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page.")
    has_more: bool = False


class PageRequest(BaseModel):
    """Where a page starts and how long it is."""

    after: str | None = None
    limit: int = DEFAULT_LIMIT


def encode_cursor(last_key: str) -> str:
    """Opaque cursor for a sort key."""
    return base64.urlsafe_b64encode(last_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The position a cursor names; for a cursor this API returned, the key it was made from.

    A string outside `CURSOR_PATTERN` is a 422. Inside it, a made-up cursor still names a
    position rather than failing: a dangling last character (6 bits, no whole byte) is dropped,
    and bytes that are not UTF-8 or characters no key holds (controls) are left out.
    """
    if len(cursor) > MAX_CURSOR_LENGTH or not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ValidationFailed.single("cursor", "cursor is not one this API returned")
    whole = cursor[:-1] if len(cursor) % 4 == 1 else cursor
    raw = base64.urlsafe_b64decode(whole + "=" * (-len(whole) % 4))
    return "".join(ch for ch in raw.decode("utf-8", errors="ignore") if ch.isprintable())


def page_request(
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            pattern=CURSOR_PATTERN,
            description="`next_cursor` of the previous page (unpadded base64url); none for the first.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
) -> PageRequest:
    """FastAPI dependency reading `cursor` and `limit`."""
    return PageRequest(after=(decode_cursor(cursor) or None) if cursor else None, limit=limit)


PageParams = Annotated[PageRequest, Depends(page_request)]


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    key_column: Any,
    page: PageRequest,
    to_public: Callable[[Any], T],
) -> Page[T]:
    """Run `statement` for one page ordered by `key_column` and map rows with `to_public`."""
    stmt = statement
    if page.after is not None:
        stmt = stmt.where(key_column > page.after)
    stmt = stmt.order_by(key_column).limit(page.limit + 1)
    rows: Sequence[Any] = (await session.exec(stmt)).all()  # type: ignore[call-overload]
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    items = [to_public(r) for r in rows]
    next_cursor = encode_cursor(str(getattr(rows[-1], key_column.key))) if has_more and rows else None
    return Page[T](data=items, next_cursor=next_cursor, has_more=has_more)
