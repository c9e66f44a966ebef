"""The payables use cases on the in-memory unit of work: a resold activation waits for its catalog
data and is committed once; finance's entry answers with the existing commitment; received
invoices are matched (or left unmatched when the account is ambiguous), audited and published."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from libs.platform.errors import ValidationFailed
from overage.domain.margins import month_range
from overage.domain.vendor_commitments import ManualCommitment
from overage.domain.vendor_invoices import (
    VendorInvoiceConflict,
    VendorInvoiceEntry,
    VendorInvoiceKind,
    VendorInvoiceMatch,
    VendorInvoiceSource,
)
from overage.handlers import resold_subscriptions as read_model
from overage.handlers import vendor_commitments, vendor_invoices
from overage.handlers.margins import report_margins
from tests.overage.factories import (
    COST_BOOK,
    VENDOR,
    cost_book_published,
    price_published,
    product_changed,
    subscription_activated,
)
from tests.overage.unit.payables_fakes import FakeOverageUnitOfWork, PayablesStore

T0 = datetime(2026, 2, 20, 9, tzinfo=UTC)


def _entry(**fields: object) -> VendorInvoiceEntry:
    values: dict[str, object] = {
        "vendor_id": VENDOR,
        "number": "MON-2026-0250",
        "kind": VendorInvoiceKind.ANNUAL,
        "currency": "USD",
        "amount": Decimal("30000.00"),
        "invoice_date": date(2026, 3, 1),
        "period_start": date(2026, 3, 1),
        "period_end": date(2027, 3, 1),
        "source": VendorInvoiceSource.VENDOR,
        "subscription_id": "sub_wfm",
    }
    values.update(fields)
    return VendorInvoiceEntry(**values)


async def _committed(store: PayablesStore, *subscriptions: str) -> None:
    uow = FakeOverageUnitOfWork(store)
    await read_model.apply_cost_book_published(uow, cost_book_published())
    await read_model.apply_product_changed(uow, product_changed(), T0)
    await read_model.apply_price_published(uow, price_published())
    for subscription in subscriptions or ("sub_wfm",):
        await read_model.apply_subscription_event(uow, subscription_activated(subscription), T0)


async def test_an_activation_waits_for_its_cost_book_then_is_committed_once() -> None:
    store = PayablesStore()
    uow = FakeOverageUnitOfWork(store)
    await read_model.apply_subscription_event(uow, subscription_activated(), T0)
    await read_model.apply_product_changed(uow, product_changed(), T0)
    await read_model.apply_price_published(uow, price_published())
    assert store.commitments == {}  # the price names a cost book nobody published yet
    await read_model.apply_cost_book_published(uow, cost_book_published())
    (commitment,) = store.commitments.values()
    assert [str(e.amount) for e in commitment.expected_invoices] == ["30000.00"] * 3
    await read_model.apply_subscription_event(uow, subscription_activated(), T0 + timedelta(seconds=1))
    await read_model.apply_cost_book_published(uow, cost_book_published())
    assert len(store.commitments) == 1
    await uow.commit()  # the consumer's transaction
    assert [a.action for a in uow.audits] == ["vendor_commitment.created"]


async def test_our_own_products_and_inactive_subscriptions_make_no_commitment() -> None:
    store = PayablesStore()
    uow = FakeOverageUnitOfWork(store)
    await read_model.apply_cost_book_published(uow, cost_book_published())
    await read_model.apply_product_changed(uow, product_changed("prod_own", vendor_id=None), T0)
    await read_model.apply_subscription_event(
        uow, subscription_activated("sub_own", product_id="prod_own", price_id="price_own"), T0
    )
    await read_model.apply_product_changed(uow, product_changed(), T0)
    await read_model.apply_subscription_event(uow, subscription_activated("sub_gone", state="cancelled"), T0)
    assert store.commitments == {}


async def test_a_product_of_the_vendor_without_a_cost_plus_price_uses_the_vendors_book() -> None:
    store = PayablesStore()
    uow = FakeOverageUnitOfWork(store)
    await read_model.apply_cost_book_published(uow, cost_book_published())
    await read_model.apply_product_changed(uow, product_changed(), T0)
    await read_model.apply_subscription_event(uow, subscription_activated(price_id="price_flat"), T0)
    (commitment,) = store.commitments.values()
    assert (commitment.cost_book_id, str(commitment.annual_amount)) == (COST_BOOK, "30000.00")


async def test_finance_entering_a_committed_subscription_gets_the_commitment() -> None:
    store = PayablesStore()
    await _committed(store)
    uow = FakeOverageUnitOfWork(store)
    entry = ManualCommitment(
        VENDOR, "acct_acme", "sub_wfm", COST_BOOK, Decimal(250), date(2026, 3, 1), date(2029, 3, 1)
    )
    commitment, created = await vendor_commitments.enter_commitment(uow=uow, entry=entry)
    assert (created, commitment.id, uow.commits) == (False, next(iter(store.commitments)), 0)
    with pytest.raises(ValidationFailed):
        await vendor_commitments.enter_commitment(
            uow=uow,
            entry=ManualCommitment(
                VENDOR, "a", "sub_new", COST_BOOK, Decimal(5), date(2025, 3, 1), date(2026, 3, 1)
            ),
        )


async def test_receiving_matches_audits_and_publishes() -> None:
    store = PayablesStore()
    await _committed(store)
    uow = FakeOverageUnitOfWork(store)
    invoice = await vendor_invoices.receive_vendor_invoice(uow=uow, entry=_entry())
    assert (invoice.match, invoice.account_id, invoice.received_by) == (
        VendorInvoiceMatch.MATCHED,
        "acct_acme",
        "finance",
    )
    await vendor_invoices.approve_vendor_invoice(uow=uow, vendor_invoice_id=invoice.id)
    await vendor_invoices.pay_vendor_invoice(
        uow=uow, vendor_invoice_id=invoice.id, payment_reference="WIRE-1"
    )
    assert uow.event_types == ["vendor.invoice_received", "vendor.invoice_approved", "vendor.invoice_paid"]
    assert [a.action for a in uow.audits] == [
        "vendor_invoice.received",
        "vendor_invoice.approved",
        "vendor_invoice.paid",
    ]
    with pytest.raises(VendorInvoiceConflict):
        await vendor_invoices.receive_vendor_invoice(uow=uow, entry=_entry(amount=Decimal("1.00")))


async def test_an_account_with_two_commitments_the_same_day_needs_the_subscription() -> None:
    store = PayablesStore()
    await _committed(store, "sub_a", "sub_b")
    uow = FakeOverageUnitOfWork(store)
    ambiguous = await vendor_invoices.receive_vendor_invoice(
        uow=uow, entry=_entry(subscription_id=None, account_id="acct_acme")
    )
    assert ambiguous.match is VendorInvoiceMatch.UNMATCHED
    named = await vendor_invoices.receive_vendor_invoice(
        uow=uow, entry=_entry(number="MON-B", subscription_id="sub_b")
    )
    assert (named.match, named.subscription_id) == (VendorInvoiceMatch.MATCHED, "sub_b")


async def test_the_margin_of_the_first_year() -> None:
    store = PayablesStore()
    await _committed(store)
    uow = FakeOverageUnitOfWork(store)
    await vendor_invoices.receive_vendor_invoice(uow=uow, entry=_entry())
    report = await report_margins(uow=uow, months=month_range("2026-03", "2026-03"))
    # Nothing billed to the customer yet: the vendor's 30,000.00 is a loss without a percent.
    assert [(str(line.margin), line.margin_percent) for line in report.lines] == [("-30000.00", None)]
