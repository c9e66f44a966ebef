"""The port of the payments' repository (SQL: `invoicing.repository.payments`; fake in unit tests)."""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from invoicing.domain.payment_methods import PaymentMethod
from invoicing.domain.payments import OpenInvoice, Payment, PaymentState, Refund
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class PaymentFilters:
    """What a list of payments is narrowed to (None = any)."""

    account_id: str | None = None
    state: PaymentState | None = None
    invoice_id: str | None = None


class PaymentRepository(abc.ABC):
    """Payment methods, payments (allocations, attempts) and refunds; and the open invoices they pay."""

    # --- payment methods -------------------------------------------------------------------

    @abc.abstractmethod
    async def find_method(self, method_id: str) -> PaymentMethod | None:
        """One payment method with its earlier tokens, if it exists."""

    @abc.abstractmethod
    async def add_method(self, method: PaymentMethod) -> None:
        """Store a new method."""

    @abc.abstractmethod
    async def save_method(self, method: PaymentMethod) -> None:
        """Write a changed method and the token versions it gained (a concurrent change is a 409)."""

    @abc.abstractmethod
    async def page_methods(self, account_id: str | None, page: PageRequest) -> Page[PaymentMethod]:
        """A page of methods ordered by id."""

    async def get_method(self, method_id: str) -> PaymentMethod:
        """One method, or NotFound (404)."""
        method = await self.find_method(method_id)
        if method is None:
            raise NotFound("payment method", method_id)
        return method

    # --- payments --------------------------------------------------------------------------

    @abc.abstractmethod
    async def find(self, payment_id: str, *, lock: bool = False) -> Payment | None:
        """One payment with its allocations and attempts (its row locked when `lock`)."""

    @abc.abstractmethod
    async def add(self, payment: Payment) -> None:
        """Store a new payment with its allocations and attempts."""

    @abc.abstractmethod
    async def save(self, payment: Payment) -> None:
        """Write a changed payment: its state and amounts, new and changed allocations, new attempts
        (a concurrent change is a 409; an attempt number taken already is a 409)."""

    @abc.abstractmethod
    async def page(self, filters: PaymentFilters, page: PageRequest) -> Page[Payment]:
        """A page of payments ordered by id (creation order)."""

    @abc.abstractmethod
    async def credit_holders(self, account_id: str, currency: str) -> list[Payment]:
        """The account's received payments that still hold credit (`unapplied` > 0), oldest first."""

    @abc.abstractmethod
    async def accounts_holding_credit(self, account_ids: Collection[str]) -> set[tuple[str, str]]:
        """Which of the accounts hold credit, as (account id, currency): one query for a bill run's chunk."""

    @abc.abstractmethod
    async def retries_due(self, on: date, *, limit: int) -> list[str]:
        """Ids of declined payments whose next retry is on or before `on`."""

    @abc.abstractmethod
    async def add_refund(self, refund: Refund, *, account_id: str) -> None:
        """Store a refund or reversal."""

    @abc.abstractmethod
    async def refunds_of(self, payment_id: str) -> list[Refund]:
        """The refunds and reversals of a payment, in order."""

    async def get(self, payment_id: str, *, lock: bool = False) -> Payment:
        """One payment, or NotFound (404)."""
        payment = await self.find(payment_id, lock=lock)
        if payment is None:
            raise NotFound("payment", payment_id)
        return payment

    # --- the invoices payments pay ---------------------------------------------------------

    @abc.abstractmethod
    async def open_invoices(self, account_id: str, currency: str) -> list[OpenInvoice]:
        """The account's finalized or partially paid invoices in `currency`, oldest first
        (invoice date, then number)."""

    @abc.abstractmethod
    async def invoice_id_of_number(self, number: str) -> str | None:
        """The id of the invoice with this number, if any."""
