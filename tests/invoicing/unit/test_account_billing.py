"""Account billing on the fakes: a chunk's accounts charged, taxed, drafted and issued once.

Expected amounts are worked out here by hand from the business rules (EXAMPLES §6: 300.00 a
month in advance from 2026-04-16 on cycle day 1 → 150.00 for the 15 remaining days of April,
then 300.00 for May; New York sales tax 8.875 % rounded per line), never by the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from invoicing.domain.bill_runs import AccountFailure, AccountInvoiced, BillRun, BillRunKind
from invoicing.domain.invoices import InvoiceState
from invoicing.domain.payments import PaymentMethodKind
from invoicing.domain.read_model import CatalogProduct, SubscriptionRecord
from invoicing.handlers import payments
from invoicing.handlers.account_billing import InvoiceEngineBilling
from invoicing.handlers.payments import PaymentRequest
from invoicing.sandbox_gateway import SandboxGateway
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType
from tests.invoicing.factories import billing_account
from tests.invoicing.unit.factories_charges import version
from tests.invoicing.unit.factories_tax import tax_rate
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore

AT = datetime(2026, 4, 16, 12, tzinfo=UTC)
TERM = (date(2026, 4, 16), date(2027, 4, 16))


def _store(*account_ids: str, currency: str = "USD") -> InvoicingStore:
    store = InvoicingStore()
    read_model = store.billing_inputs
    read_model.products["prod_seats"] = (CatalogProduct("prod_seats", "Scheduling seats", "SW050000"), AT)
    for account_id in account_ids:
        read_model.accounts[account_id] = (billing_account(account_id), AT)
        record = SubscriptionRecord(
            event_id=f"evt_{account_id}",
            event_at=AT,
            event_kind="subscription.activated",
            subscription_id=f"sub_{account_id}",
            account_id=account_id,
            product_id="prod_seats",
            currency=currency,
            charge_type=ChargeType.RECURRING,
            billing_period=BillingFrequency.MONTHLY,
            billing_timing=BillingTiming.IN_ADVANCE,
            version=version(TERM[0], term=TERM, unit_price="300.00"),
        )
        read_model.subscription_versions[record.event_id] = record
    rate = tax_rate("8.875", country="US", region="NY", tax_code="SW050000", name="Sales tax")
    store.tax_rates[rate.id] = rate
    return store


def _run(bill_date: date, *, dry_run: bool = False) -> BillRun:
    return BillRun(
        id="brun_1", bill_date=bill_date, kind=BillRunKind.ON_DEMAND, created_at=AT, dry_run=dry_run
    )


async def _bill(store: InvoicingStore, run: BillRun, *account_ids: str) -> list[object]:
    uow = FakeInvoicingUnitOfWork(store)
    async with uow:
        result = await InvoiceEngineBilling().bill_chunk(uow, run, list(account_ids))
        await uow.commit()
    return list(result.outcomes)


async def test_a_chunk_is_charged_taxed_and_issued_with_the_partial_month_billed_back() -> None:
    store = _store("acct_1", "acct_2")

    outcomes = await _bill(store, _run(date(2026, 5, 1)), "acct_1", "acct_2")

    april, may = Decimal("150.00"), Decimal("300.00")  # 300.00 x 15/30, then the whole of May
    tax = Decimal("13.31") + Decimal("26.63")  # 13.3125 and 26.625, each rounded half up
    assert [type(o) for o in outcomes] == [AccountInvoiced, AccountInvoiced]
    for outcome in outcomes:
        assert isinstance(outcome, AccountInvoiced)
        (billed,) = outcome.invoices
        assert (billed.subtotal, billed.tax, billed.total) == (april + may, tax, april + may + tax)
        assert (billed.period_start, billed.period_end, billed.created) == (
            date(2026, 5, 1),
            date(2026, 6, 1),
            True,
        )
    invoices = sorted(store.invoices.invoices.values(), key=lambda invoice: invoice.account_id)
    assert [invoice.state for invoice in invoices] == [InvoiceState.FINALIZED, InvoiceState.FINALIZED]
    assert sorted(invoice.number_text or "" for invoice in invoices) == ["INV-2026-000001", "INV-2026-000002"]
    first = invoices[0]
    assert [(line.period_start, line.period_end, line.amount, line.tax_amount) for line in first.lines] == [
        (date(2026, 4, 16), date(2026, 5, 1), april, Decimal("13.31")),
        (date(2026, 5, 1), date(2026, 6, 1), may, Decimal("26.63")),
    ]
    assert {line.tax_jurisdiction for line in first.lines} == {"US-NY"}


async def test_a_repeated_run_bills_nothing_more() -> None:
    store = _store("acct_1")
    await _bill(store, _run(date(2026, 5, 1)), "acct_1")
    (issued,) = store.invoices.invoices.values()

    again = await _bill(store, _run(date(2026, 5, 1)), "acct_1")

    # Everything due was billed: nothing is due, so no invoice is looked for or made.
    assert again == [AccountInvoiced("acct_1")]
    assert list(store.invoices.invoices.values()) == [issued]


async def test_the_next_cycle_bills_only_the_new_month() -> None:
    store = _store("acct_1")
    await _bill(store, _run(date(2026, 5, 1)), "acct_1")

    (june,) = await _bill(store, _run(date(2026, 6, 1)), "acct_1")

    assert isinstance(june, AccountInvoiced)
    assert (june.invoices[0].subtotal, june.invoices[0].tax) == (Decimal("300.00"), Decimal("26.63"))
    assert len(store.invoices.invoices) == 2


async def test_a_dry_run_answers_the_same_invoice_and_stores_nothing() -> None:
    store = _store("acct_1")

    (preview,) = await _bill(store, _run(date(2026, 5, 1), dry_run=True), "acct_1")

    assert isinstance(preview, AccountInvoiced)
    assert preview.invoices[0].total == Decimal("489.94")
    assert preview.invoices[0].invoice_id is None
    assert [line.amount for line in preview.invoices[0].lines] == [Decimal("150.00"), Decimal("300.00")]
    assert store.invoices.invoices == {}


async def test_an_account_whose_charges_are_in_another_currency_fails_alone() -> None:
    store = _store("acct_1")
    euro = _store("acct_eur", currency="EUR")
    store.billing_inputs.accounts.update(euro.billing_inputs.accounts)
    store.billing_inputs.subscription_versions.update(euro.billing_inputs.subscription_versions)

    outcomes = await _bill(store, _run(date(2026, 5, 1)), "acct_1", "acct_eur")

    assert isinstance(outcomes[0], AccountInvoiced) and outcomes[0].invoices
    assert isinstance(outcomes[1], AccountFailure)
    assert "not in the account's currency USD" in outcomes[1].reason
    assert [invoice.account_id for invoice in store.invoices.invoices.values()] == ["acct_1"]


async def test_an_unknown_account_has_nothing_to_bill() -> None:
    store = _store("acct_1")

    (outcome,) = await _bill(store, _run(date(2026, 5, 1)), "acct_missing")

    assert outcome == AccountInvoiced("acct_missing")


async def test_invoices_are_written_in_the_accounts_locale_alone_or_in_a_chunk() -> None:
    store = _store("acct_1", "acct_2", "acct_3")
    for account_id in ("acct_1", "acct_3"):
        store.billing_inputs.accounts[account_id] = (billing_account(account_id, locale="de_DE"), AT)

    await _bill(store, _run(date(2026, 5, 1)), "acct_1", "acct_2")
    await _bill(store, _run(date(2026, 5, 1)), "acct_3")

    locales = {invoice.account_id: invoice.locale for invoice in store.invoices.invoices.values()}
    assert locales == {"acct_1": "de_DE", "acct_2": "en_US", "acct_3": "de_DE"}


async def test_a_bill_run_pays_the_new_invoice_out_of_the_accounts_credit() -> None:
    """acct_1 overpaid earlier: a check of 500.00 with nothing open is credit. Its May invoice
    (150.00 + 300.00 + tax 13.31 + 26.63 = 489.94) is paid from it at once and 10.06 stays credit;
    acct_2, with no credit, owes its whole invoice."""
    store = _store("acct_1", "acct_2")
    async with FakeInvoicingUnitOfWork(store) as uow:
        check = PaymentRequest("acct_1", Decimal("500.00"), "USD", PaymentMethodKind.CHECK)
        payment = await payments.take_payment(uow=uow, gateway=SandboxGateway(), request=check)

    await _bill(store, _run(date(2026, 5, 1)), "acct_1", "acct_2")

    invoices = {invoice.account_id: invoice for invoice in store.invoices.invoices.values()}
    assert (invoices["acct_1"].state, invoices["acct_1"].amount_paid, invoices["acct_1"].amount_due) == (
        InvoiceState.PAID,
        Decimal("489.94"),
        Decimal("0.00"),
    )
    assert (invoices["acct_2"].state, invoices["acct_2"].amount_due) == (
        InvoiceState.FINALIZED,
        Decimal("489.94"),
    )
    assert store.payments.payments[payment.id].unapplied == Decimal("10.06")
