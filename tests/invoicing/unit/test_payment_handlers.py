"""Payment use cases on the in-memory unit of work and the sandbox gateway: credit applied when an
invoice is finalized, a declined card recorded and retried, refusals that change nothing, events
committed with the change. (What the fakes stand for: tests/invoicing/unit/fakes.py.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from invoicing.bootstrap import bootstrap
from invoicing.config import InvoicingSettings
from invoicing.domain.invoices import InvoiceConflict, InvoiceState, RunKind
from invoicing.domain.payment_methods import CardToken
from invoicing.domain.payments import PaymentMethodKind, PaymentState
from invoicing.handlers import invoices as invoice_handlers
from invoicing.handlers import payment_methods, payments
from invoicing.handlers.payments import PaymentRequest
from invoicing.sandbox_gateway import SandboxGateway
from libs.platform.clock import FixedClock
from libs.platform.money import CurrencyMismatch
from tests.invoicing.factories import billing_account, invoice_line
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore

D = Decimal
AUG_1 = date(2026, 8, 1)


async def _issue(store: InvoicingStore, amount: str, on: date, *, key: str) -> str:
    line = invoice_line(
        key, quantity=amount, unit_price="1", tax_rate="0", period=(on, on + timedelta(days=1))
    )
    async with FakeInvoicingUnitOfWork(store) as uow:
        drafted = await invoice_handlers.draft_invoice(
            uow=uow,
            account=billing_account(),
            currency="USD",
            period_start=on,
            period_end=on + timedelta(days=1),
            lines=[line],
            run_kind=RunKind.ON_DEMAND,
            run_source_id=key,
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        await invoice_handlers.finalize_invoice(uow=uow, invoice_id=drafted.invoice.id, invoice_date=on)
    return drafted.invoice.id


async def _store() -> InvoicingStore:
    store = InvoicingStore()
    async with FakeInvoicingUnitOfWork(store) as uow:
        await uow.billing_inputs.save_account(billing_account(), event_at=uow.clock.now())
        await uow.commit()
    return store


def _check(amount: str, *invoice_ids: str, currency: str = "USD") -> PaymentRequest:
    return PaymentRequest("acct_1", D(amount), currency, PaymentMethodKind.CHECK, invoice_ids=invoice_ids)


async def test_finalizing_an_invoice_takes_the_accounts_credit() -> None:
    """A check of 80.00 with nothing open is credit; an invoice of 100.00 finalized takes it: 20.00 due;
    the payment holds no credit after."""
    store = await _store()
    async with FakeInvoicingUnitOfWork(store) as uow:
        payment = await payments.take_payment(uow=uow, gateway=SandboxGateway(), request=_check("80.00"))
    assert uow.event_types == ["payment.received"]
    assert payment.unapplied == D("80.00")
    invoice_id = await _issue(store, "100.00", AUG_1, key="a")
    invoice = store.invoices.invoices[invoice_id]
    assert (invoice.state, invoice.amount_paid, invoice.amount_due) == (
        InvoiceState.PARTIALLY_PAID,
        D("80.00"),
        D("20.00"),
    )
    assert store.payments.payments[payment.id].unapplied == D("0.00")


async def test_a_refused_payment_changes_nothing() -> None:
    store = await _store()
    invoice_id = await _issue(store, "100.00", AUG_1, key="a")
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(CurrencyMismatch):
            await payments.take_payment(
                uow=uow, gateway=SandboxGateway(), request=_check("10.00", currency="EUR")
            )
    async with FakeInvoicingUnitOfWork(store) as uow:
        await payments.take_payment(uow=uow, gateway=SandboxGateway(), request=_check("100.00", invoice_id))
    async with FakeInvoicingUnitOfWork(store) as uow:
        with pytest.raises(InvoiceConflict):
            await payments.take_payment(uow=uow, gateway=SandboxGateway(), request=_check("1.00", invoice_id))
    assert uow.envelopes == [] and len(store.payments.payments) == 1


async def test_a_declined_card_is_retried_on_its_day_once() -> None:
    """tok_insufficient declines on August 1 (retry August 2); on August 2 it declines again
    (retry August 4); a second run of August 2 tries nothing."""
    store = await _store()
    gateway = SandboxGateway()
    async with FakeInvoicingUnitOfWork(store) as uow:
        method = await payment_methods.add_payment_method(
            uow=uow,
            account_id="acct_1",
            kind=PaymentMethodKind.CARD,
            card=CardToken("tok_insufficient_1", "visa", "1111", 1, 2030),
        )
    request = PaymentRequest("acct_1", D("40.00"), "USD", payment_method_id=method.id)
    async with FakeInvoicingUnitOfWork(store) as uow:
        payment = await payments.take_payment(uow=uow, gateway=gateway, request=request)
    assert (payment.state, payment.next_retry_on, payment.attempts[0].decline_code) == (
        PaymentState.DECLINED,
        date(2026, 8, 2),
        "insufficient_funds",
    )
    assert uow.event_types == ["payment.declined"]
    declined = uow.envelopes[0].payload
    assert (
        declined["amount"],
        declined["decline_code"],
        declined["attempt_number"],
        declined["next_retry_on"],
        declined["given_up"],
    ) == ("40.00", "insufficient_funds", 1, "2026-08-02", False)
    for expected in (
        {"approved": 0, "declined": 1, "failed": 0, "skipped": 0},
        {"approved": 0, "declined": 0, "failed": 0, "skipped": 0},
    ):
        async with FakeInvoicingUnitOfWork(store) as uow:
            assert await payments.retry_declined(uow=uow, gateway=gateway, on=date(2026, 8, 2)) == expected
    assert store.payments.payments[payment.id].next_retry_on == date(2026, 8, 4)
    assert len(gateway.charges) == 2


async def test_the_retry_job_charges_the_declined_payments_due_today(tmp_path: Path) -> None:
    """The job of a process whose clock says August 2 retries a card declined on August 1 with the
    method's updated token: approved; its next run that day does nothing."""
    store = await _store()
    async with FakeInvoicingUnitOfWork(store) as uow:
        method = await payment_methods.add_payment_method(
            uow=uow,
            account_id="acct_1",
            kind=PaymentMethodKind.CARD,
            card=CardToken("tok_expired", "visa", "1111", 7, 2026),
        )
    async with FakeInvoicingUnitOfWork(store) as uow:
        request = PaymentRequest("acct_1", D("40.00"), "USD", payment_method_id=method.id)
        payment = await payments.take_payment(uow=uow, gateway=SandboxGateway(), request=request)
    async with FakeInvoicingUnitOfWork(store) as uow:
        await payment_methods.update_card_token(
            uow=uow, method_id=method.id, card=CardToken("tok_renewed", "visa", "1111", 7, 2029), reason=None
        )
    clock = FixedClock(datetime(2026, 8, 2, 15, tzinfo=UTC))
    runtime = bootstrap(
        InvoicingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/jobs.db", bus_enabled=False),
        unit_of_work=lambda _principal: FakeInvoicingUnitOfWork(store, clock=clock),
        clock=clock,
    )
    [retry] = [j for j in runtime.periodic_jobs if j.name == "payments.retry-declined"]
    assert await retry.run() == {"approved": 1, "declined": 0, "failed": 0, "skipped": 0}
    assert await retry.run() == {"approved": 0, "declined": 0, "failed": 0, "skipped": 0}
    stored = store.payments.payments[payment.id]
    assert (stored.state, stored.unapplied, [a.token for a in stored.attempts]) == (
        PaymentState.RECEIVED,
        D("40.00"),
        ["tok_expired", "tok_renewed"],
    )
