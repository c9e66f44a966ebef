"""What the provisioning handlers share: limits, accounts' business dates, audit and commit, pages."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from libs.platform.clock import UTC_ZONE
from libs.platform.errors import FieldErrors
from libs.platform.pagination import Page
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork

R = TypeVar("R")
T = TypeVar("T")

# A line's amounts must fit every backend's exact numeric column with room for the price.
MAX_LINE_QUANTITY = Decimal(1_000_000_000)


async def account_date(uow: ProvisioningUnitOfWork, account_id: str) -> date:
    """Today in the account's time zone: the default business date of its changes (DESIGN §6)."""
    return (await account_dates(uow, [account_id]))[account_id]


async def account_dates(uow: ProvisioningUnitOfWork, account_ids: Collection[str]) -> dict[str, date]:
    """Today in each account's time zone, read for the whole set at once (an unknown account: UTC)."""
    zones = await uow.customers.time_zones(set(account_ids))
    return {account_id: uow.business_date(zones.get(account_id, UTC_ZONE)) for account_id in account_ids}


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
