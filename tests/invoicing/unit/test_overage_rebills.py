"""Overage re-bills in invoicing's read model: each `overage.rebill_requested` becomes one one-time
charge (once per charge key), billed with the account's next monthly run, period and counts on
the line (EXAMPLES §1: 12 users over at 10.00, marked up 20% → 144.00)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from invoicing.domain.billing_inputs import OneTimeChargeKind
from invoicing.domain.charges import ChargeKind, charges_due
from invoicing.handlers.billing_inputs import apply_account_event, apply_overage_rebill
from libs.contracts.overage import OverageRebillRequested
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore
from tests.invoicing.upstream_events import account_opened

T0 = datetime(2026, 8, 2, 9, tzinfo=UTC)


def rebill_requested(
    notice: str = "monet-2026-07", overage: int = 12, amount: str = "144.00"
) -> OverageRebillRequested:
    """The overage service's re-bill of one vendor notice."""
    return OverageRebillRequested(
        charge_key=f"overage:ven_1:{notice}",
        case_id="ovc_1",
        notice_id=notice,
        account_id="acct_1",
        subscription_id="sub_wfm",
        vendor_id="ven_1",
        tenant_id="monet-tenant-1",
        period_start=date(2026, 7, 1),
        licensed_count=250,
        actual_count=250 + overage,
        overage_count=overage,
        vendor_unit_cost="10.00",
        markup_percent="20",
        unit_price="12",
        amount=amount,
        currency="USD",
        requested_on=date(2026, 8, 2),
    )


async def test_a_rebill_is_one_one_time_charge_however_often_it_is_delivered() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=FakeInvoicingUnitOfWork(store), profile=account_opened(), occurred_at=T0)
    assert await apply_overage_rebill(uow=FakeInvoicingUnitOfWork(store), event=rebill_requested())
    assert not await apply_overage_rebill(uow=FakeInvoicingUnitOfWork(store), event=rebill_requested())

    inputs = (await FakeInvoicingUnitOfWork(store).billing_inputs.billing_inputs(["acct_1"]))["acct_1"]
    (charge,) = inputs.one_time_charges
    assert (charge.kind, charge.quantity, charge.unit_price, charge.amount, charge.charge_date) == (
        OneTimeChargeKind.OVERAGE_REBILL,
        Decimal(12),
        Decimal(12),
        Decimal("144.00"),
        date(2026, 8, 2),
    )
    assert charge.description == (
        "License overage 2026-07: 262 users, 250 licensed, 12 over (vendor tenant monet-tenant-1)"
    )
    assert (charge.subscription_id, charge.source_id) == ("sub_wfm", "ovc_1")

    # Not before the day it arose; on the next run after it, one line of 144.00.
    assert charges_due(inputs, through=date(2026, 8, 1)) == []
    (line,) = charges_due(inputs, through=date(2026, 9, 1))
    assert (line.kind, line.amount, line.charge_key) == (
        ChargeKind.ONE_TIME,
        Decimal("144.00"),
        "one_time:overage:ven_1:monet-2026-07",
    )


async def test_each_month_s_notice_is_its_own_charge() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=FakeInvoicingUnitOfWork(store), profile=account_opened(), occurred_at=T0)
    await apply_overage_rebill(uow=FakeInvoicingUnitOfWork(store), event=rebill_requested())
    await apply_overage_rebill(
        uow=FakeInvoicingUnitOfWork(store),
        event=rebill_requested("monet-2026-08", overage=14, amount="168.00"),
    )
    inputs = (await FakeInvoicingUnitOfWork(store).billing_inputs.billing_inputs(["acct_1"]))["acct_1"]
    assert sorted(c.amount for c in inputs.one_time_charges) == [Decimal("144.00"), Decimal("168.00")]
