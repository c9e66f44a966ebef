"""Statements of account: they add up (EXAMPLES §9), entries in date order with a running balance,
the period's rules; and the use case on the fakes (404, 422, voids, other kinds of entries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.domain.invoices import RunKind
from invoicing.domain.statements import (
    EntryKind,
    LedgerEntry,
    Statement,
    StatementPeriod,
    StatementSection,
    opening_balance,
    statement_period,
)
from invoicing.handlers import invoices as invoice_handlers
from invoicing.handlers.statements import statement_for
from libs.platform.clock import FixedClock
from libs.platform.errors import NotFound, ValidationFailed
from tests.invoicing.factories import billing_account, draft, invoice_line
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore

AUGUST = StatementPeriod(date(2026, 8, 1), date(2026, 8, 31))
NOON = datetime(2026, 8, 1, 12, tzinfo=UTC)


def entry(kind: EntryKind, on: date, amount: str, document_id: str = "doc", **kw: object) -> LedgerEntry:
    """An entry of `kind` on `on` for `amount` (as its document states it)."""
    posted_at = kw.pop("posted_at", datetime.combine(on, datetime.min.time(), tzinfo=UTC))
    return LedgerEntry(kind, on, document_id, document_id.upper(), Decimal(amount), posted_at, **kw)  # type: ignore[arg-type]


def example_9() -> Statement:
    """EXAMPLES §9: 1,000.00 brought forward (two earlier invoices less a credit note), then a
    payment of 600.00, a credit note of 50.00 and a new invoice of 300.00."""
    previous = opening_balance(
        {EntryKind.INVOICE: Decimal("1200.00"), EntryKind.CREDIT_NOTE: Decimal("200.00")}, "USD"
    )
    return Statement.of(
        account_id="acct_1",
        currency="USD",
        period=AUGUST,
        previous_balance=previous,
        entries=[
            entry(EntryKind.INVOICE, date(2026, 8, 20), "300.00", "inv_3"),
            entry(EntryKind.PAYMENT, date(2026, 8, 5), "600.00", "pay_1"),
            entry(EntryKind.CREDIT_NOTE, date(2026, 8, 12), "50.00", "cn_1"),
        ],
    )


def test_example_9_adds_up_to_650() -> None:
    statement = example_9()
    assert statement.previous_balance == Decimal("1000.00")
    assert statement.section_total(StatementSection.PAYMENTS) == Decimal("-600.00")
    assert statement.section_total(StatementSection.CREDITS_AND_ADJUSTMENTS) == Decimal("-50.00")
    assert statement.section_total(StatementSection.INVOICES) == Decimal("300.00")
    assert statement.balance_due == Decimal("650.00")
    assert [(line.entry.document_id, line.balance) for line in statement.lines] == [
        ("pay_1", Decimal("400.00")),
        ("cn_1", Decimal("350.00")),
        ("inv_3", Decimal("650.00")),
    ]
    assert [(t.kind, t.amount, t.count) for t in statement.kind_totals] == [
        (EntryKind.INVOICE, Decimal("300.00"), 1),
        (EntryKind.CREDIT_NOTE, Decimal("-50.00"), 1),
        (EntryKind.PAYMENT, Decimal("-600.00"), 1),
    ]


def test_each_kind_moves_the_balance_its_way() -> None:
    debits = {k for k in EntryKind if k.sign > 0}
    assert debits == {
        EntryKind.INVOICE,
        EntryKind.DEBIT_ADJUSTMENT,
        EntryKind.PAYMENT_REVERSAL,
        EntryKind.REFUND,
    }
    assert entry(EntryKind.WRITE_OFF, date(2026, 8, 1), "5.00").signed_amount == Decimal("-5.00")
    assert EntryKind.INVOICE_VOID.section is StatementSection.INVOICES


def test_entries_of_one_day_follow_the_order_they_were_recorded_in() -> None:
    day = date(2026, 8, 3)
    statement = Statement.of(
        account_id="acct_1",
        currency="JPY",
        period=AUGUST,
        previous_balance=Decimal(0),
        entries=[
            entry(EntryKind.PAYMENT, day, "1000", "pay_1", posted_at=NOON + timedelta(hours=2)),
            entry(EntryKind.INVOICE, day, "1235", "inv_1", posted_at=NOON),
        ],
    )
    assert [(line.entry.document_id, line.balance) for line in statement.lines] == [
        ("inv_1", Decimal("1235")),
        ("pay_1", Decimal("235")),
    ]


def test_a_credit_balance_is_negative_and_an_empty_period_keeps_the_previous_balance() -> None:
    empty = Statement.of(
        account_id="a", currency="USD", period=AUGUST, previous_balance=Decimal("-25.00"), entries=[]
    )
    assert (empty.balance_due, empty.kind_totals, empty.section_total(StatementSection.PAYMENTS)) == (
        Decimal("-25.00"),
        (),
        Decimal("0.00"),
    )


def test_entries_outside_the_period_or_not_in_minor_units_are_refused() -> None:
    for wrong in (
        entry(EntryKind.INVOICE, date(2026, 9, 1), "1.00"),
        entry(EntryKind.INVOICE, date(2026, 8, 2), "1.005"),
        entry(EntryKind.INVOICE, date(2026, 8, 2), "-1.00"),
    ):
        with pytest.raises(ValueError):
            Statement.of(
                account_id="a", currency="USD", period=AUGUST, previous_balance=Decimal(0), entries=[wrong]
            )


def test_the_period_defaults_to_this_month_to_date_and_is_at_most_five_years() -> None:
    today = date(2026, 8, 17)
    assert statement_period(None, None, today=today) == StatementPeriod(date(2026, 8, 1), today)
    assert statement_period(None, date(2026, 3, 31), today=today) == StatementPeriod(
        date(2026, 3, 1), date(2026, 3, 31)
    )
    assert statement_period(date(2026, 8, 17), None, today=today).end == today
    assert statement_period(date(2021, 1, 1), date(2025, 12, 31), today=today).start == date(2021, 1, 1)
    for start, end in ((date(2026, 9, 1), date(2026, 8, 31)), (date(2021, 1, 1), date(2026, 1, 1))):
        with pytest.raises(ValidationFailed):
            statement_period(start, end, today=today)


_KINDS = st.sampled_from(list(EntryKind))
_AMOUNTS = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
_ENTRIES = st.lists(
    st.builds(
        lambda kind, day, amount, n: entry(
            kind, date(2026, 8, 1) + timedelta(days=day), str(amount), f"d{n}"
        ),
        _KINDS,
        st.integers(0, 30),
        _AMOUNTS,
        st.integers(0, 10**6),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(
    previous=st.decimals(
        min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
    ),
    entries=_ENTRIES,
)
def test_balance_due_is_the_previous_balance_plus_every_entry(
    previous: Decimal, entries: list[LedgerEntry]
) -> None:
    statement = Statement.of(
        account_id="a", currency="USD", period=AUGUST, previous_balance=previous, entries=entries
    )
    signed = sum((e.signed_amount for e in entries), Decimal(0))
    assert statement.balance_due == previous + signed
    assert statement.balance_due == previous + sum(
        (statement.section_total(section) for section in StatementSection), Decimal(0)
    )
    assert sum((t.amount for t in statement.kind_totals), Decimal(0)) == signed
    # The running balance moves by each entry, in date order, from the previous balance.
    balance = previous
    for line in statement.lines:
        balance += line.entry.signed_amount
        assert line.balance == balance
    assert [line.entry.on for line in statement.lines] == sorted(e.on for e in entries)


@settings(max_examples=100, deadline=None)
@given(sums=st.dictionaries(_KINDS, _AMOUNTS))
def test_the_opening_balance_is_debits_less_credits(sums: dict[EntryKind, Decimal]) -> None:
    debits = sum((a for k, a in sums.items() if k.is_debit), Decimal(0))
    credits = sum((a for k, a in sums.items() if not k.is_debit), Decimal(0))
    assert opening_balance(sums, "USD") == debits - credits


# --- the use case on the fakes -----------------------------------------------------------------


async def _issued(store: InvoicingStore, invoice_id: str, on: date, quantity: str) -> None:
    invoice = draft(
        invoice_line(invoice_id, quantity=quantity, unit_price="10.00", tax_rate="0"),
        invoice_id=invoice_id,
        run_kind=RunKind.ON_DEMAND,
        run_source_id=invoice_id,
    )
    uow = FakeInvoicingUnitOfWork(store)
    await uow.invoices.add(invoice)
    await uow.commit()
    await invoice_handlers.finalize_invoice(
        uow=FakeInvoicingUnitOfWork(store), invoice_id=invoice_id, invoice_date=on
    )


async def test_the_statement_of_example_9_from_the_ledger() -> None:
    store = InvoicingStore()
    uow = FakeInvoicingUnitOfWork(store)
    await uow.billing_inputs.save_account(billing_account(), event_at=NOON)
    await _issued(store, "inv_june", date(2026, 6, 30), "120")  # 1,200.00
    await _issued(store, "inv_aug", date(2026, 8, 20), "30")  # 300.00
    store.activity.record(
        "acct_1",
        "USD",
        entry(EntryKind.CREDIT_NOTE, date(2026, 7, 10), "200.00", "cn_0"),
        entry(EntryKind.PAYMENT, date(2026, 8, 5), "600.00", "pay_1"),
        entry(EntryKind.CREDIT_NOTE, date(2026, 8, 12), "50.00", "cn_1"),
    )
    found = await statement_for(
        uow=FakeInvoicingUnitOfWork(store), account_id="acct_1", from_=AUGUST.start, to=AUGUST.end
    )
    statement = found.statement
    assert (statement.previous_balance, statement.balance_due) == (Decimal("1000.00"), Decimal("650.00"))
    assert [line.entry.document_id for line in statement.lines] == ["pay_1", "cn_1", "inv_aug"]


async def test_a_void_counts_on_the_accounts_local_day() -> None:
    store = InvoicingStore()
    await FakeInvoicingUnitOfWork(store).billing_inputs.save_account(billing_account(), event_at=NOON)
    await _issued(store, "inv_1", date(2026, 8, 10), "5")
    late_on_the_31st = FixedClock(datetime(2026, 9, 1, 3, tzinfo=UTC))  # 23:00 in New York
    await invoice_handlers.void_invoice(
        uow=FakeInvoicingUnitOfWork(store, clock=late_on_the_31st), invoice_id="inv_1"
    )
    found = await statement_for(
        uow=FakeInvoicingUnitOfWork(store), account_id="acct_1", from_=AUGUST.start, to=AUGUST.end
    )
    assert [(line.entry.kind, line.entry.on, line.balance) for line in found.statement.lines] == [
        (EntryKind.INVOICE, date(2026, 8, 10), Decimal("50.00")),
        (EntryKind.INVOICE_VOID, date(2026, 8, 31), Decimal("0.00")),
    ]


async def test_unknown_account_unknown_currency_and_reversed_range_are_refused() -> None:
    store = InvoicingStore()
    await FakeInvoicingUnitOfWork(store).billing_inputs.save_account(billing_account(), event_at=NOON)
    with pytest.raises(NotFound):
        await statement_for(uow=FakeInvoicingUnitOfWork(store), account_id="acct_nope")
    with pytest.raises(ValidationFailed):
        await statement_for(uow=FakeInvoicingUnitOfWork(store), account_id="acct_1", currency="XYZ")
    with pytest.raises(ValidationFailed):
        await statement_for(
            uow=FakeInvoicingUnitOfWork(store),
            account_id="acct_1",
            from_=date(2026, 8, 2),
            to=date(2026, 8, 1),
        )
