"""The general ledger's rules with plain values: the chart as configuration, each kind of entry's
debits and credits, an unbalanced entry refused, every built entry balanced (Hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.config import InvoicingSettings
from invoicing.domain.ledger import (
    DEFAULT_CHART_OF_ACCOUNTS,
    ChartOfAccounts,
    EntryKind,
    GlAccount,
    JournalEntry,
    JournalLine,
    LedgerRole,
    RevenueSplit,
    UnbalancedEntry,
    credit_postings,
    invoice_postings,
    payment_postings,
    payment_return_postings,
    recognition_postings,
    write_off_postings,
)

D = Decimal
CHART = DEFAULT_CHART_OF_ACCOUNTS


def _sides(lines: tuple[JournalLine, ...]) -> list[tuple[str, str, str]]:
    return [(line.account.code, str(line.debit), str(line.credit)) for line in lines]


def test_the_default_chart() -> None:
    assert [(CHART[r].code, CHART[r].name) for r in LedgerRole] == [
        ("1000", "Cash"),
        ("1100", "Accounts receivable"),
        ("2200", "Tax payable"),
        ("2300", "Customer credit"),
        ("2400", "Deferred revenue"),
        ("4000", "Revenue"),
        ("6100", "Bad debt expense"),
    ]


def test_the_chart_is_overridden_by_a_file_then_by_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    chart_file = tmp_path / "chart.json"
    chart_file.write_text('{"cash": {"code": "1010", "name": "Operating bank"}, "revenue": {"code": "4100"}}')
    monkeypatch.setenv("LEDGER_CHART_OF_ACCOUNTS_FILE", str(chart_file))
    monkeypatch.setenv(
        "LEDGER_CHART_OF_ACCOUNTS", '{"revenue": {"code": "4200", "name": "Subscription revenue"}}'
    )
    chart = InvoicingSettings().chart_of_accounts()
    assert chart[LedgerRole.CASH] == GlAccount("1010", "Operating bank")
    assert chart[LedgerRole.REVENUE] == GlAccount("4200", "Subscription revenue")
    assert chart[LedgerRole.RECEIVABLE] == GlAccount("1100", "Accounts receivable")


def test_a_chart_with_a_repeated_code_or_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError):
        ChartOfAccounts.with_overrides({"cash": {"code": "1100"}})
    with pytest.raises(ValueError):
        ChartOfAccounts.with_overrides({"petty_cash": {"code": "1001"}})


def test_an_invoice_whose_credits_exceeded_its_charges_credits_customer_credit_the_excess() -> None:
    # Charges 450.00 + 32.63 tax, a credit of 1,000.00 + 72.50: -589.87 net, carried as credit.
    lines = invoice_postings(
        CHART,
        total=D("0.00"),
        split=RevenueSplit(recognized=D("-1000.00"), deferred=D("450.00")),
        tax=D("-39.87"),
        account_credit=D("589.87"),
    )
    assert _sides(lines) == [
        ("4000", "1000.00", "0"),
        ("2400", "0", "450.00"),
        ("2200", "39.87", "0"),
        ("2300", "0", "589.87"),
    ]


def test_an_invoice_debits_receivable_and_credits_revenue_deferred_and_tax() -> None:
    lines = invoice_postings(
        CHART,
        total=D("37087.50"),
        split=RevenueSplit(recognized=D("1000.00"), deferred=D("36000.00")),
        tax=D("87.50"),
    )
    assert _sides(lines) == [
        ("1100", "37087.50", "0"),
        ("4000", "0", "1000.00"),
        ("2400", "0", "36000.00"),
        ("2200", "0", "87.50"),
    ]


def test_a_credit_note_on_a_paid_invoice_credits_the_customer() -> None:
    lines = credit_postings(
        CHART,
        split=RevenueSplit(recognized=D("6049.31"), deferred=D("5950.69")),
        tax=D(0),
        account_credit=D("2000.00"),
    )
    assert _sides(lines) == [
        ("4000", "6049.31", "0"),
        ("2400", "5950.69", "0"),
        ("1100", "0", "10000.00"),
        ("2300", "0", "2000.00"),
    ]


def test_payments_refunds_write_offs_and_recognition() -> None:
    assert _sides(
        payment_postings(CHART, amount=D("700.00"), applied=D("587.50"), unapplied=D("112.50"))
    ) == [
        ("1000", "700.00", "0"),
        ("1100", "0", "587.50"),
        ("2300", "0", "112.50"),
    ]
    assert _sides(
        payment_return_postings(CHART, amount=D("112.50"), reopened=D(0), credit_used=D("112.50"))
    ) == [
        ("2300", "112.50", "0"),
        ("1000", "0", "112.50"),
    ]
    assert _sides(write_off_postings(CHART, amount=D("200.00"))) == [
        ("6100", "200.00", "0"),
        ("1100", "0", "200.00"),
    ]
    assert _sides(recognition_postings(CHART, amount=D("3057.53"))) == [
        ("2400", "3057.53", "0"),
        ("4000", "0", "3057.53"),
    ]


def _entry(lines: tuple[JournalLine, ...], currency: str = "USD") -> JournalEntry:
    return JournalEntry("je_1", EntryKind.PAYMENT, date(2026, 8, 1), currency, "pay_1", "acct_1", "x", lines)


def test_an_unbalanced_entry_is_refused() -> None:
    cash, receivable = CHART[LedgerRole.CASH], CHART[LedgerRole.RECEIVABLE]
    with pytest.raises(UnbalancedEntry):
        _entry((JournalLine(cash, debit=D("100.00")), JournalLine(receivable, credit=D("99.99"))))
    with pytest.raises(UnbalancedEntry):  # more decimals than yen have
        _entry((JournalLine(cash, debit=D("100.5")), JournalLine(receivable, credit=D("100.5"))), "JPY")
    with pytest.raises(UnbalancedEntry):  # a negative debit is a credit
        _entry((JournalLine(cash, debit=D("-1.00")), JournalLine(receivable, debit=D("1.00"))))
    with pytest.raises(UnbalancedEntry):
        _entry(())


money = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2)
positive = st.decimals(min_value=D(0), max_value=D("1000000"), places=2)


@given(recognized=money, deferred=money, tax=money, credit=positive)
def test_every_entry_built_balances(
    recognized: Decimal, deferred: Decimal, tax: Decimal, credit: Decimal
) -> None:
    split = RevenueSplit(recognized=recognized, deferred=deferred)
    built = [
        invoice_postings(CHART, total=recognized + deferred + tax, split=split, tax=tax),
        credit_postings(CHART, split=split, tax=tax, account_credit=credit),
        payment_postings(CHART, amount=abs(recognized) + credit, applied=abs(recognized), unapplied=credit),
        payment_return_postings(
            CHART, amount=abs(deferred) + credit, reopened=abs(deferred), credit_used=credit
        ),
        write_off_postings(CHART, amount=abs(tax)),
        recognition_postings(CHART, amount=deferred),
    ]
    for lines in built:
        if lines:
            entry = _entry(lines)
            assert sum(line.debit for line in entry.lines) == sum(line.credit for line in entry.lines)
            assert all(line.debit >= 0 and line.credit >= 0 for line in entry.lines)
