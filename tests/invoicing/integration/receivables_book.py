"""A book of issued invoices for the A/R and collections tests: accounts in the read model, invoices
issued on chosen dates through the invoice handlers, payments set through the invoice repository
(the payments module applies them the same way), and a clock the tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from invoicing.app import create_app
from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.invoices import RunKind
from invoicing.handlers import invoices as handlers
from invoicing.handlers.collections import settle_collections_for_account
from libs.platform.settings import Role
from tests.invoicing.factories import billing_account, invoice_line
from tests.invoicing.integration.conftest import Invoicing, invoicing_settings
from tests.support.services import auth, running_app

FINANCE, ERP = auth(Role.FINANCE), auth(Role.ERP)
PERIOD = (date(2026, 8, 1), date(2026, 9, 1))


@dataclass
class MovingClock:
    """A clock tests move."""

    at: datetime

    def now(self) -> datetime:
        return self.at.astimezone(UTC)


@dataclass
class Book:
    invoicing: Invoicing
    clock: MovingClock

    @property
    def client(self) -> Any:
        return self.invoicing.client

    async def open(self, account: BillingAccount) -> BillingAccount:
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            await uow.billing_inputs.save_account(account, event_at=datetime(2026, 1, 1, tzinfo=UTC))
            await uow.commit()
        return account

    async def issue(
        self, key: str, amount: str, *, on: date, account_id: str = "acct_1", currency: str = "USD"
    ) -> str:
        """An invoice of one untaxed line for `amount`, issued on `on` (due on + the account's terms)."""
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            account = await uow.billing_inputs.find_account(account_id)
            assert account is not None
            drafted = await handlers.draft_invoice(
                uow=uow,
                account=account,
                currency=currency,
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                lines=[
                    invoice_line(
                        key,
                        quantity="1",
                        unit_price=amount,
                        tax_rate="0",
                        currency=currency,
                        account_id=account_id,
                    )
                ],
                run_kind=RunKind.ON_DEMAND,
                run_source_id=key,
            )
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            await handlers.finalize_invoice(uow=uow, invoice_id=drafted.invoice.id, invoice_date=on)
        return drafted.invoice.id

    async def pay(self, invoice_id: str, amount: str, *, settle: bool = True) -> None:
        """Apply a payment to an invoice (what the payments module does), then settle collections."""
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            invoice = await uow.invoices.lock(invoice_id)
            invoice.apply_payment(Decimal(amount), invoice.currency)
            await uow.invoices.save(invoice)
            if settle:
                await settle_collections_for_account(uow, invoice.account_id, self.clock.now())
            await uow.commit()

    async def void(self, invoice_id: str) -> None:
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            await handlers.void_invoice(uow=uow, invoice_id=invoice_id, reason="billed twice")

    async def invoice(self, invoice_id: str) -> Any:
        response = await self.client.get(f"/v1/invoices/{invoice_id}", headers=ERP)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(name="book")
async def book_fixture(database_url: str) -> AsyncIterator[Book]:
    clock = MovingClock(datetime(2027, 1, 4, 14, tzinfo=UTC))
    app = create_app(invoicing_settings(database_url), clock=clock)
    async with running_app(app) as client:
        book = Book(Invoicing(app, client), clock)
        await book.open(
            billing_account(
                "acct_1", crm_owner_name="Dana Whitfield", crm_owner_email="dana.whitfield@northwind.example"
            )
        )
        yield book
