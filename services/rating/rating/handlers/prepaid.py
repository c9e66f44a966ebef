"""The seam between rating and prepaid balances: what the period close and the checks ask of them.

The period close draws prepaid units (before pricing) and then prepaid money (against what is
due); entitlement checks and running charges ask what is still available. Balances are their
own concept (`rating/handlers/balances.py`): a unit of work carries the `PrepaidBalances` to
use as `uow.prepaid`, which draws nothing unless one is wired in. `rating.handlers.balances`
fits this protocol as it is (a module of two functions taking the unit of work first):
`SqlRatingUnitOfWork.prepaid = balances` wires it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

ZERO = Decimal(0)


class PrepaidAmounts(Protocol):
    """Units and money (drawn, or available)."""

    @property
    def units(self) -> Decimal: ...

    @property
    def amount(self) -> Decimal: ...


@dataclass(frozen=True)
class Prepaid:
    """Units and money of a prepaid balance: drawn by a drawdown, or still available."""

    units: Decimal = ZERO
    amount: Decimal = ZERO


NOTHING: Final = Prepaid()


class PrepaidBalances(Protocol):
    """Prepaid units and money of a subscription's meter (balances' two entry points)."""

    async def draw_down(
        self,
        uow: Any,
        *,
        subscription_id: str,
        account_id: str,
        meter: str,
        currency: str,
        units: Decimal,
        amount: Decimal,
        reference: str,
        on: date,
    ) -> PrepaidAmounts:
        """Draw up to `units` units and up to `amount` money; what was drawn. Idempotent by `reference`."""
        ...

    async def available(
        self,
        uow: Any,
        *,
        subscription_id: str,
        account_id: str,
        meter: str,
        currency: str,
        on: date,
    ) -> PrepaidAmounts:
        """Units and money that could be drawn on `on`."""
        ...


class NoPrepaidBalances:
    """No prepaid balances: nothing is ever drawn or available (the default)."""

    async def draw_down(
        self,
        uow: RatingUnitOfWork,
        *,
        subscription_id: str,
        account_id: str,
        meter: str,
        currency: str,
        units: Decimal,
        amount: Decimal,
        reference: str,
        on: date,
    ) -> Prepaid:
        """Draw nothing."""
        return NOTHING

    async def available(
        self,
        uow: RatingUnitOfWork,
        *,
        subscription_id: str,
        account_id: str,
        meter: str,
        currency: str,
        on: date,
    ) -> Prepaid:
        """Nothing is available."""
        return NOTHING


NO_PREPAID: Final = NoPrepaidBalances()


def units_reference(series_reference: str) -> str:
    """The drawdown reference of a period's prepaid units (stable, so a retried close draws once)."""
    return f"{series_reference}:units"


def money_reference(series_reference: str) -> str:
    """The drawdown reference of a period's prepaid money."""
    return f"{series_reference}:money"
