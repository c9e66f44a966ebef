"""The port of receivables (SQL: `invoicing.repository.receivables`): issued invoices read for
aging, balances and collections, a page of accounts at a time."""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import date
from decimal import Decimal

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.collections import OpenInvoice
from invoicing.domain.receivables import ReceivableFacts


class ReceivablesRepository(abc.ABC):
    """Issued invoices as receivables."""

    @abc.abstractmethod
    async def aging_accounts_page(
        self, *, as_of: date, currency: str | None, after: str | None, limit: int
    ) -> list[str]:
        """Up to `limit` ids, sorted, after `after`, of accounts with invoices issued on or before `as_of`."""

    @abc.abstractmethod
    async def receivable_facts(
        self, account_ids: Collection[str], *, as_of: date, currency: str | None
    ) -> list[ReceivableFacts]:
        """The invoices of these accounts issued on or before `as_of`, with the credit notes issued by
        then (one query each for the whole page)."""

    @abc.abstractmethod
    async def account_names(self, account_ids: Collection[str]) -> dict[str, str]:
        """The read model's name of each known account."""

    @abc.abstractmethod
    async def accounts(self, account_ids: Collection[str]) -> dict[str, BillingAccount]:
        """The read model's billing profile (contacts, CRM owner) of each known account."""

    @abc.abstractmethod
    async def open_invoices(self, account_ids: Collection[str]) -> list[OpenInvoice]:
        """The issued invoices of these accounts with something still due now."""

    @abc.abstractmethod
    async def past_due_accounts_page(self, *, on: date, after: str | None, limit: int) -> list[str]:
        """Up to `limit` ids, sorted, after `after`, of accounts with an open invoice due before `on`
        or an open collections case."""

    @abc.abstractmethod
    async def account_credit(self, account_id: str) -> dict[str, Decimal]:
        """Per currency, the credit the account holds from credit notes beyond what their invoices owed."""
