"""Aging rules with plain values: the bucket boundaries (exactly 30/31/60/61/90/91 days), what an
invoice owed at a date (issued after, voided, credited, written off), per account and currency,
in 2-, 0- and 3-decimal currencies. Expected amounts are worked by hand in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from invoicing.domain.receivables import (
    AgingBucket,
    AgingTotals,
    ReceivableFacts,
    aging_rows,
    amount_due_at,
    bucket_of,
    days_past_due,
)

AS_OF = date(2026, 12, 31)


def facts(
    invoice_id: str,
    due: date,
    total: str,
    *,
    account_id: str = "acct_1",
    currency: str = "USD",
    paid: str = "0",
    credited: str = "0",
    issued: date | None = None,
    **extra: object,
) -> ReceivableFacts:
    return ReceivableFacts(
        invoice_id=invoice_id,
        invoice_number=None,
        account_id=account_id,
        currency=currency,
        invoice_date=issued or due - timedelta(days=30),
        due_date=due,
        total=Decimal(total),
        paid=Decimal(paid),
        credited=Decimal(credited),
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("due", "days", "bucket"),
    [
        (date(2027, 1, 5), -5, AgingBucket.CURRENT),
        (date(2026, 12, 31), 0, AgingBucket.CURRENT),
        (date(2026, 12, 30), 1, AgingBucket.DAYS_1_30),
        (date(2026, 12, 1), 30, AgingBucket.DAYS_1_30),
        (date(2026, 11, 30), 31, AgingBucket.DAYS_31_60),
        (date(2026, 11, 1), 60, AgingBucket.DAYS_31_60),
        (date(2026, 10, 31), 61, AgingBucket.DAYS_61_90),
        (date(2026, 10, 2), 90, AgingBucket.DAYS_61_90),
        (date(2026, 10, 1), 91, AgingBucket.OVER_90),
        (date(2025, 12, 31), 365, AgingBucket.OVER_90),
    ],
)
def test_days_past_due_and_their_bucket_at_the_boundaries(due: date, days: int, bucket: AgingBucket) -> None:
    assert days_past_due(due, AS_OF) == days
    assert bucket_of(days) is bucket


def test_a_book_in_every_bucket_to_the_cent() -> None:
    book = [
        facts("a", date(2027, 1, 5), "100.00"),  # current
        facts("b", date(2026, 12, 31), "10.01"),  # due today: current
        facts("c", date(2026, 12, 1), "200.00"),  # 30 days
        facts("d", date(2026, 11, 30), "300.00", paid="100.00"),  # 31 days, 200.00 left
        facts("e", date(2026, 11, 1), "0.99"),  # 60 days
        facts("f", date(2026, 10, 31), "400.00", credited="150.00"),  # 61 days, 250.00 left
        facts("g", date(2026, 10, 2), "50.50"),  # 90 days
        facts("h", date(2026, 10, 1), "600.00"),  # 91 days
        facts("paid", date(2026, 9, 1), "75.00", paid="75.00"),  # nothing owed: left out
    ]

    (row,) = aging_rows(book, AS_OF)

    assert (row.account_id, row.currency, row.invoices) == ("acct_1", "USD", 8)
    assert [str(row.amount(b)) for b in AgingBucket] == ["110.01", "200.00", "200.99", "300.50", "600.00"]
    # 110.01 + 200.00 + 200.99 + 300.50 + 600.00
    assert str(row.total) == "1411.50"


def test_what_an_invoice_owed_at_a_date() -> None:
    issued_later = facts("later", date(2027, 2, 1), "99.00", issued=date(2027, 1, 2))
    voided_before = facts("void", date(2026, 11, 1), "20.00", voided_on=date(2026, 12, 31))
    voided_after = facts("void2", date(2026, 11, 1), "20.00", voided_on=date(2027, 1, 1))
    written_off_before = facts(
        "wo", date(2026, 6, 1), "80.00", paid="30.00", written_off=Decimal("50.00"), written_off_on=AS_OF
    )
    written_off_after = facts(
        "wo2", date(2026, 6, 1), "80.00", written_off=Decimal("80.00"), written_off_on=date(2027, 1, 3)
    )
    overcredited = facts("cn", date(2026, 12, 1), "10.00", credited="12.00")

    owed = [
        amount_due_at(f, AS_OF)
        for f in (
            issued_later,
            voided_before,
            voided_after,
            written_off_before,
            written_off_after,
            overcredited,
        )
    ]

    assert [str(o) for o in owed] == ["0.00", "0.00", "20.00", "0.00", "80.00", "0.00"]


def test_zero_and_three_decimal_currencies_keep_their_minor_units_and_never_mix() -> None:
    book = [
        facts("jpy1", date(2026, 12, 15), "12345", currency="JPY"),  # 16 days
        facts("jpy2", date(2027, 1, 15), "1000", currency="JPY"),  # current
        facts("bhd1", date(2026, 8, 31), "1.235", currency="BHD"),  # 122 days
        facts("bhd2", date(2026, 12, 20), "0.005", currency="BHD"),  # 11 days
        facts("usd", date(2026, 12, 20), "1.00", account_id="acct_2"),
    ]

    rows = aging_rows(book, AS_OF)
    totals = AgingTotals()
    for row in rows:
        totals.add(row)

    by_key = {(r.account_id, r.currency): r for r in rows}
    jpy, bhd = by_key["acct_1", "JPY"], by_key["acct_1", "BHD"]
    assert [str(jpy.amount(b)) for b in AgingBucket] == ["1000", "12345", "0", "0", "0"]
    assert str(jpy.total) == "13345"
    assert [str(bhd.amount(b)) for b in AgingBucket] == ["0.000", "0.005", "0.000", "0.000", "1.235"]
    assert str(bhd.total) == "1.240"
    assert [(t.currency, str(t.total), t.invoices) for t in totals.rows()] == [
        ("BHD", "1.240", 2),
        ("JPY", "13345", 2),
        ("USD", "1.00", 1),
    ]
    assert totals.accounts == 3
