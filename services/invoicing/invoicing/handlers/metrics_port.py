"""The port of finance metrics (SQL: `invoicing.repository.metrics`)."""

from __future__ import annotations

import abc
from decimal import Decimal

from invoicing.domain.metrics import Movement, RecurringPrice


class MetricsRepository(abc.ABC):
    """Sums of invoicing's documents and of the read model's subscriptions, per month."""

    @abc.abstractmethod
    async def movements(
        self, months: list[str], currency: str | None
    ) -> list[tuple[str, str, Movement, Decimal]]:
        """(currency, month, kind, sum) of every dated movement in `months` (consecutive), and
        with month `OPENING` of everything dated before the first."""

    @abc.abstractmethod
    async def recurring_prices(self, months: list[str], currency: str | None) -> list[RecurringPrice]:
        """Per month, the active recurring subscriptions in term at its end, by price."""
