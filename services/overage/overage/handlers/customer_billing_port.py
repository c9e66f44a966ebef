"""The port of what we billed customers (SQL: `overage.repository.customer_billing`)."""

from __future__ import annotations

import abc
from datetime import date
from decimal import Decimal

from overage.domain.customer_billing import BilledLine
from overage.domain.margins import BilledAmount


class CustomerBilling(abc.ABC):
    """Lines of issued customer invoices that may bill resold service."""

    @abc.abstractmethod
    async def add_lines(self, lines: list[BilledLine]) -> None:
        """Keep the lines of an issued invoice (lines kept already are left as they are)."""

    @abc.abstractmethod
    async def credit_lines(
        self, *, credit_note_id: str, invoice_id: str, credits: list[tuple[str, Decimal]], note_date: date
    ) -> None:
        """Keep a credit note's credits of kept lines (charge key, net amount) as negative lines of
        the credited line's account, subscription and period; credits of other lines are not ours."""

    @abc.abstractmethod
    async def void_invoice(self, invoice_id: str) -> None:
        """Mark an invoice's lines void: they bill nothing."""

    @abc.abstractmethod
    async def resale_amounts(self, start: date, end: date, account_id: str | None) -> list[BilledAmount]:
        """What was billed for periods starting in [start, end): lines of committed subscriptions
        and overage re-bills, not void, per account, currency and period start."""
