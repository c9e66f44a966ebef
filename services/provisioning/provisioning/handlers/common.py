"""What the provisioning handlers share: limits, today's date, audit-emit-commit, pages of views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from libs.contracts.envelope import EventPayload
from libs.platform.db import utcnow
from libs.platform.errors import FieldErrors
from libs.platform.pagination import Page
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork

R = TypeVar("R")
T = TypeVar("T")

# A line's amounts must fit every backend's exact numeric column with room for the price.
MAX_LINE_QUANTITY = Decimal(1_000_000_000)


def today() -> date:
    """Today's date in UTC (the service's clock for default effective dates)."""
    return utcnow().date()


def emit_all(uow: ProvisioningUnitOfWork, payloads: Iterable[EventPayload], key: str) -> None:
    """Stage every payload for the outbox under one partition key."""
    for payload in payloads:
        uow.emit(payload, key=key)


async def commit_change(
    uow: ProvisioningUnitOfWork,
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


def public_page(items: Page[R], to_public: Callable[[R], T]) -> Page[T]:
    """A page of domain objects as their public views."""
    return Page[T](
        data=[to_public(r) for r in items.data], next_cursor=items.next_cursor, has_more=items.has_more
    )


def field_errors(problems: Sequence[tuple[str, str]]) -> list[Any]:
    """A domain's (field, message) problems as the error model's field errors."""
    errors = FieldErrors()
    for name, message in problems:
        errors.add(name, message, "required" if message == "is required" else "invalid")
    return errors.errors
