"""What the payments tests share: an account in the read model, invoices issued on chosen dates
for chosen amounts (one untaxed line: quantity x 1.00), and calls to the payments API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from invoicing.domain.invoices import RunKind
from invoicing.handlers import invoices as handlers
from libs.platform.settings import Role
from tests.invoicing.factories import billing_account, invoice_line
from tests.invoicing.integration.conftest import Invoicing
from tests.support.services import auth

FINANCE, OPS = auth(Role.FINANCE), auth(Role.OPS)
_keys = itertools.count(1)


def key() -> dict[str, str]:
    """Finance's headers with a fresh Idempotency-Key."""
    return FINANCE | {"Idempotency-Key": f"pay-test-{next(_keys)}"}


@dataclass
class Books:
    """One account's invoices and payments through the service."""

    invoicing: Invoicing
    account_id: str = "acct_1"
    currency: str = "USD"
    issued: list[str] = field(default_factory=list)

    async def open(self, **overrides: Any) -> Books:
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            account = billing_account(self.account_id, currency=self.currency, **overrides)
            await uow.billing_inputs.save_account(account, event_at=uow.clock.now())
            await uow.commit()
        return self

    async def issue(self, amount: str, on: date, *, finalize: bool = True) -> str:
        """An invoice of `amount` (one line, no tax) issued on `on`; its id."""
        n = len(self.issued)
        line = invoice_line(
            f"charge:{n}",
            quantity=amount,
            unit_price="1",
            tax_rate="0",
            currency=self.currency,
            account_id=self.account_id,
            period=(on, on + timedelta(days=1)),
        )
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            outcome = await handlers.draft_invoice(
                uow=uow,
                account=billing_account(self.account_id, currency=self.currency),
                currency=self.currency,
                period_start=on,
                period_end=on + timedelta(days=1),
                lines=[line],
                run_kind=RunKind.ON_DEMAND,
                run_source_id=f"test:{n}",
            )
        invoice_id = outcome.invoice.id
        self.issued.append(invoice_id)
        if finalize:
            async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
                await handlers.finalize_invoice(uow=uow, invoice_id=invoice_id, invoice_date=on)
        return invoice_id

    async def pay(self, amount: str, *, expect: int = 201, **fields: Any) -> dict[str, Any]:
        body = {"account_id": self.account_id, "amount": amount, "currency": self.currency, **fields}
        if "payment_method_id" not in body:
            body.setdefault("method_kind", "check")
        response = await self.invoicing.client.post("/v1/payments", json=body, headers=key())
        assert response.status_code == expect, response.text
        return dict(response.json())

    async def invoice(self, invoice_id: str) -> tuple[str, str, str]:
        """(state, amount paid, amount due) of an invoice."""
        found = (await self.invoicing.client.get(f"/v1/invoices/{invoice_id}", headers=OPS)).json()
        return found["state"], found["amount_paid"], found["amount_due"]

    async def payment(self, payment_id: str) -> dict[str, Any]:
        return dict((await self.invoicing.client.get(f"/v1/payments/{payment_id}", headers=OPS)).json())

    async def post(self, path: str, body: Any, *, expect: int) -> dict[str, Any]:
        response = await self.invoicing.client.post(path, json=body, headers=key())
        assert response.status_code == expect, response.text
        return dict(response.json())

    async def count_payments(self) -> int:
        listed = await self.invoicing.client.get("/v1/payments", params={"limit": 100}, headers=OPS)
        return len(listed.json()["data"])
