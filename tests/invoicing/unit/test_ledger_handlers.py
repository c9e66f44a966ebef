"""The ledger's postings and revenue use cases on the in-memory unit of work: what each of
invoicing's events books, the schedules they leave, a month's recognition run, the trial balance."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from invoicing.domain.ledger import DEFAULT_CHART_OF_ACCOUNTS as CHART
from invoicing.handlers import ledger as ledger_handlers
from invoicing.handlers import ledger_postings as postings
from invoicing.handlers import revenue as revenue_handlers
from libs.contracts.vocabulary import RevenueRule
from libs.platform.clock import FixedClock
from libs.platform.errors import RetryableError, ValidationFailed
from tests.invoicing.factories_ledger import (
    credit_applied,
    credit_note_issued,
    invoice_finalized,
    invoice_line,
    payment_received,
)
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore

OCTOBER = FixedClock(datetime(2026, 10, 2, tzinfo=UTC))


def _invoice() -> object:
    return invoice_finalized(
        "inv_1",
        "INV-2026-000001",
        date(2026, 3, 1),
        [
            invoice_line(
                "recurring:sub_1", "36000.00", period=(date(2026, 3, 1), date(2027, 3, 1)), tax="3150.00"
            ),
            invoice_line(
                "fulfillment:ful_1:1",
                "5000.00",
                period=(date(2026, 3, 1), date(2026, 3, 2)),
                product_id="prod_workshop",
                kind="fulfillment",
            ),
        ],
    )


def _uow(store: InvoicingStore) -> FakeInvoicingUnitOfWork:
    return FakeInvoicingUnitOfWork(store, clock=OCTOBER, actor="invoicing.ledger")


async def _trial(store: InvoicingStore, as_of: date) -> dict[str, str]:
    async with _uow(store) as uow:
        found = await ledger_handlers.trial_balance(uow=uow, as_of=as_of, currency="USD")
    assert [t.balance for t in found.totals] == [Decimal("0.00")]
    return {row.account: str(row.balance) for row in found.accounts}


async def test_an_invoice_defers_ratable_lines_and_recognises_the_others_at_once() -> None:
    store = InvoicingStore()
    store.ledger.product_rules.update(
        prod_seats=RevenueRule.RATABLE, prod_workshop=RevenueRule.ON_FULFILLMENT
    )
    async with _uow(store) as uow:
        entry = await postings.post_invoice_finalized(uow=uow, event=_invoice(), chart=CHART)  # type: ignore[arg-type]
    assert entry is not None
    assert [(line.account.code, str(line.debit), str(line.credit)) for line in entry.lines] == [
        ("1100", "44150.00", "0"),
        ("4000", "0", "5000.00"),
        ("2400", "0", "36000.00"),
        ("2200", "0", "3150.00"),
    ]
    rules = sorted((s.charge_key, s.rule.value, len(s.months)) for s in store.ledger.schedules.values())
    assert rules == [("fulfillment:ful_1:1", "on_fulfillment", 1), ("recurring:sub_1", "ratable", 12)]
    async with _uow(store) as uow:  # the same event again books nothing
        assert await postings.post_invoice_finalized(uow=uow, event=_invoice(), chart=CHART) is None  # type: ignore[arg-type]
    assert len(store.ledger.entries) == 1

    async with _uow(store) as uow:
        run = await revenue_handlers.run_recognition(uow=uow, month="2026-03", chart=CHART)
    # Only the ratable line's March (3,057.53); the workshop was revenue on the invoice.
    assert [(p.currency, str(p.amount), p.schedule_months) for p in run.posted] == [("USD", "3057.53", 1)]
    assert await _trial(store, date(2026, 3, 31)) == {
        "1100": "44150.00",
        "2200": "-3150.00",
        "2400": "-32942.47",
        "4000": "-8057.53",
    }


async def test_a_credit_note_with_tax_and_a_payment() -> None:
    store = InvoicingStore()
    store.ledger.product_rules.update(
        prod_seats=RevenueRule.RATABLE, prod_workshop=RevenueRule.ON_FULFILLMENT
    )
    invoice = _invoice()
    async with _uow(store) as uow:
        await postings.post_invoice_finalized(uow=uow, event=invoice, chart=CHART)  # type: ignore[arg-type]
    async with _uow(store) as uow:
        await postings.post_payment_received(
            uow=uow,
            event=payment_received("pay_1", "44150.00", date(2026, 3, 20), [("inv_1", "44150.00")]),
            chart=CHART,
        )
    # 12,000.00 of the seats with its 1,050.00 of tax on 2026-09-15, the invoice paid: all of it
    # becomes the customer's credit; 6,049.31 recognised and 5,950.69 deferred are reversed.
    note = credit_note_issued(
        "cn_000001",
        invoice,
        date(2026, 9, 15),
        [("recurring:sub_1", "12000.00", "1050.00")],
        account_credit="13050.00",  # type: ignore[arg-type]
    )
    async with _uow(store) as uow:
        entry = await postings.post_credit_note(uow=uow, event=note, chart=CHART)
    assert entry is not None
    assert [(line.account.code, str(line.debit), str(line.credit)) for line in entry.lines] == [
        ("4000", "6049.31", "0"),
        ("2400", "5950.69", "0"),
        ("2200", "1050.00", "0"),
        ("2300", "0", "13050.00"),
    ]
    assert await _trial(store, date(2026, 9, 30)) == {
        "1000": "44150.00",
        "1100": "0.00",
        "2200": "-2100.00",
        "2300": "-13050.00",
        "2400": "-30049.31",
        "4000": "1049.31",
    }


async def test_a_credit_note_for_an_unknown_invoice_waits_and_a_foreign_line_is_refused() -> None:
    store = InvoicingStore()
    invoice = _invoice()
    note = credit_note_issued("cn_000001", invoice, date(2026, 9, 15), [("recurring:sub_1", "1.00", "0.00")])  # type: ignore[arg-type]
    async with _uow(store) as uow:
        with pytest.raises(RetryableError):
            await postings.post_credit_note(uow=uow, event=note, chart=CHART)
    async with _uow(store) as uow:
        await postings.post_invoice_finalized(uow=uow, event=invoice, chart=CHART)  # type: ignore[arg-type]
    foreign = credit_note_issued("cn_000002", invoice, date(2026, 9, 15), [("usage:nope", "1.00", "0.00")])  # type: ignore[arg-type]
    async with _uow(store) as uow:
        with pytest.raises(ValidationFailed):
            await postings.post_credit_note(uow=uow, event=foreign, chart=CHART)


async def test_a_month_not_ended_is_not_recognised() -> None:
    async with _uow(InvoicingStore()) as uow:
        with pytest.raises(ValidationFailed):
            await revenue_handlers.run_recognition(uow=uow, month="2026-10", chart=CHART)


async def test_credit_left_by_an_overpayment_moves_to_receivables_when_a_later_invoice_takes_it() -> None:
    """A check of 50,000.00 pays inv_1 (44,150.00) and leaves 5,850.00 of customer credit; inv_2 of
    1,000.00 (recognised at invoice) is finalized and takes 1,000.00 of it: Dr 2300, Cr 1100. A/R
    ends at zero, 4,850.00 of credit is left; a repeated event books nothing more."""
    store = InvoicingStore()
    store.ledger.product_rules.update(
        prod_seats=RevenueRule.RATABLE,
        prod_workshop=RevenueRule.ON_FULFILLMENT,
        prod_fee=RevenueRule.ON_INVOICE,
    )
    later = invoice_finalized(
        "inv_2",
        "INV-2026-000002",
        date(2026, 4, 1),
        [
            invoice_line(
                "one_time:fee_1",
                "1000.00",
                period=(date(2026, 4, 1), date(2026, 4, 2)),
                product_id="prod_fee",
            )
        ],
    )
    paid = payment_received(
        "pay_1", "50000.00", date(2026, 3, 20), [("inv_1", "44150.00")], unapplied="5850.00"
    )
    async with _uow(store) as uow:
        await postings.post_invoice_finalized(uow=uow, event=_invoice(), chart=CHART)  # type: ignore[arg-type]
        await postings.post_payment_received(uow=uow, event=paid, chart=CHART)
        await postings.post_invoice_finalized(uow=uow, event=later, chart=CHART)
    applied = credit_applied("pay_1", "1000.00", date(2026, 4, 1), "inv_2", unapplied="4850.00")
    async with _uow(store) as uow:
        entry = await postings.post_payment_credit_applied(uow=uow, event=applied, chart=CHART)
        again = await postings.post_payment_credit_applied(uow=uow, event=applied, chart=CHART)
    assert entry is not None and again is None
    assert [(line.account.code, str(line.debit), str(line.credit)) for line in entry.lines] == [
        ("2300", "1000.00", "0"),
        ("1100", "0", "1000.00"),
    ]
    trial = await _trial(store, date(2026, 4, 30))
    assert (trial["1100"], trial["2300"], trial["1000"]) == ("0.00", "-4850.00", "50000.00")


async def test_an_invoice_whose_credits_exceed_its_charges_books_the_excess_as_customer_credit() -> None:
    store = InvoicingStore()
    may = (date(2026, 5, 1), date(2026, 5, 2))
    event = invoice_finalized(
        "inv_cr",
        "INV-2026-000009",
        date(2026, 5, 1),
        [
            invoice_line("one_time:fee", "450.00", period=may, kind="one_time", tax="32.63"),
            invoice_line("adjustment:adj_1", "-1000.00", period=may, kind="adjustment", tax="-72.50"),
            invoice_line(
                "account_credit:inv_cr", "589.87", period=may, product_id=None, kind="account_credit"
            ),
        ],
    )
    async with _uow(store) as uow:
        entry = await postings.post_invoice_finalized(uow=uow, event=event, chart=CHART)
    assert entry is not None
    # Nothing owed (A/R 0); revenue and tax reversed beyond the charges; the excess is the customer's.
    assert [(line.account.code, str(line.debit), str(line.credit)) for line in entry.lines] == [
        ("4000", "550.00", "0"),
        ("2200", "39.87", "0"),
        ("2300", "0", "589.87"),
    ]
    assert sorted(s.charge_key for s in store.ledger.schedules.values()) == [
        "adjustment:adj_1",
        "one_time:fee",
    ]
