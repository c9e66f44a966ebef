"""What the provisioning handlers share: limits, today's date, audit and commit, pages of views."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

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


async def commit_change(
    uow: ProvisioningUnitOfWork, action: str, entity: tuple[str, str], changes: dict[str, Any]
) -> None:
    """Audit a change and commit it (its recorded events go out with it): how a changing handler ends."""
    uow.audit(action, entity[0], entity[1], changes)
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
