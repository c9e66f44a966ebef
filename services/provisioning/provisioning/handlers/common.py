"""What the provisioning handlers share: limits, audit-emit-commit, pages of aggregates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import EventPayload
from libs.platform.errors import FieldErrors
from libs.platform.logging import get_logger
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.unit_of_work import UnitOfWork

log = get_logger("provisioning.handlers")


# A line's amounts must fit every backend's exact numeric column with room for the price.
MAX_LINE_QUANTITY = Decimal(1_000_000_000)


# Charges that make a lasting service instance; one-time charges are billed on fulfillment.
SUBSCRIPTION_CHARGE_TYPES = frozenset({"recurring", "usage", None})


DEFAULT_TERM_MONTHS = 12


def emit_all(uow: UnitOfWork, payloads: Any, key: str) -> None:
    for payload in payloads:
        uow.emit(payload, key=key)


async def commit_change(
    uow: UnitOfWork,
    action: str,
    entity: tuple[str, str],
    changes: dict[str, Any],
    payloads: Iterable[EventPayload],
    key: str,
) -> None:
    """Audit a change, emit its events and commit them with it (the end of every changing handler)."""
    uow.audit(action, entity[0], entity[1], changes)
    emit_all(uow, payloads, key)
    await uow.commit()


def filtered(model: type[Any], **equal_to: str | None) -> Any:
    """`select(model)` kept to the rows whose columns equal the filters given (None: no filter)."""
    stmt = select(model)
    for column, value in equal_to.items():
        if value:
            stmt = stmt.where(getattr(model, column) == value)
    return stmt


async def page_of_aggregates(
    session: AsyncSession, stmt: Any, key: Any, page: PageRequest, load: Callable[[str], Awaitable[Any]]
) -> Page[Any]:
    """A page of ids from `stmt`, each loaded as its whole aggregate's view."""
    ids = await paginate(session, stmt, key, page, lambda r: r.id)
    return Page[Any](
        data=[await load(i) for i in ids.data], next_cursor=ids.next_cursor, has_more=ids.has_more
    )


def field_errors(problems: Sequence[tuple[str, str]]) -> list[Any]:
    errors = FieldErrors()
    for name, message in problems:
        errors.add(name, message, "required" if message == "is required" else "invalid")
    return errors.errors
