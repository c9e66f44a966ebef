"""One page of an in-memory table, as the SQL repositories page theirs (unit tests' fakes)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TypeVar

from libs.platform.pagination import Page, PageRequest, encode_cursor

T = TypeVar("T")


def page_of(items: Iterable[T], key: Callable[[T], str], page: PageRequest) -> Page[T]:
    """The items after the page's cursor in `key` order, at most its limit (copies: a caller's
    change reaches the table only through the repository, as with rows)."""
    ordered = sorted(items, key=key)
    after = [item for item in ordered if page.after is None or key(item) > page.after]
    data = after[: page.limit]
    has_more = len(after) > page.limit
    return Page[T](
        data=[copy.deepcopy(item) for item in data],
        next_cursor=encode_cursor(key(data[-1])) if has_more else None,
        has_more=has_more,
    )
