"""Finance metrics' pure rules, to the cent, on hand-worked numbers: MRR normalised per month,
billings, collections, A/R carried month to month, DSO."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from invoicing.domain.metrics import (
    OPENING,
    Movement,
    RecurringPrice,
    days_sales_outstanding,
    finance_metrics,
    monthly_amount,
    term_months,
)


def _price(period: str, unit_price: str, quantity: str = "1", **kw: object) -> RecurringPrice:
    return RecurringPrice(
        month=str(kw.pop("month", "2026-02")),
        currency=str(kw.pop("currency", "USD")),
        billing_period=period,
        unit_price=D(unit_price),
        discount_percent=D(str(kw.pop("discount", "0"))),
        quantity=D(quantity),
        term_months=int(kw.pop("term_months", 1)),  # type: ignore[call-overload]
    )


def test_a_price_is_normalised_to_a_month() -> None:
    assert monthly_amount(_price("monthly", "300.00", "2")) == D("600.00")  # 300.00 x 2 seats
    assert monthly_amount(_price("annual", "36000.00")) == D("3000.00")  # 36,000.00 / 12
    assert monthly_amount(_price("quarterly", "1500.00", "3")) == D("1500.00")  # 4,500.00 / 3
    assert monthly_amount(_price("monthly", "300.00", "2", discount="10")) == D("540.00")  # 600 - 10%
    assert monthly_amount(_price("term", "24000.00", term_months=24)) == D("1000.00")  # 2-year term


def test_term_months_counts_a_part_month_whole() -> None:
    assert term_months(date(2026, 1, 1), date(2027, 1, 1)) == 12
    assert term_months(date(2026, 1, 15), date(2026, 3, 16)) == 3
    assert term_months(date(2026, 1, 15), date(2026, 1, 20)) == 1


def test_mrr_sums_prices_and_rounds_once_per_month() -> None:
    prices = [
        _price("monthly", "300.00", "2"),
        _price("annual", "36000.00"),
        _price("quarterly", "1500.00", "3"),
        _price("quarterly", "100.00"),  # 33.333...
        _price("quarterly", "100.00"),  # + 33.333... = 66.67 once rounded, not 66.66
    ]

    (row,) = finance_metrics(["2026-02"], [], prices)["USD"]

    assert row.mrr == D("5166.67")  # 600.00 + 3,000.00 + 1,500.00 + 66.67
    assert row.arr == D("62000.04")  # 12 x 5,166.67


def test_billings_collections_receivables_and_dso() -> None:
    usd = "USD"
    movements = [
        (usd, OPENING, Movement.ISSUED, D("800.00")),  # before January: 800.00 owed
        (usd, OPENING, Movement.APPLIED, D("300.00")),
        (usd, "2026-01", Movement.ISSUED, D("1000.00")),
        (usd, "2026-02", Movement.ISSUED, D("5500.00")),
        (usd, "2026-02", Movement.CREDITED, D("150.00")),  # 100.00 reduced an invoice,
        (usd, "2026-02", Movement.CREDITED_TO_ACCOUNT, D("50.00")),  # 50.00 became account credit
        (usd, "2026-02", Movement.PAID_IN, D("3000.00")),
        (usd, "2026-02", Movement.APPLIED, D("2800.00")),  # 200.00 stayed unapplied
        (usd, "2026-02", Movement.APPLIED, D("40.00")),  # account credit applied later
        (usd, "2026-02", Movement.REFUNDED, D("300.00")),  # 250.00 reopened, 50.00 from credit
        (usd, "2026-02", Movement.REFUNDED_FROM_CREDIT, D("50.00")),
        (usd, "2026-02", Movement.WRITTEN_OFF, D("60.00")),
        (usd, "2026-02", Movement.VOIDED, D("20.00")),
    ]

    january, february, march = finance_metrics(["2026-01", "2026-02", "2026-03"], movements, [])["USD"]

    assert (january.billings, january.collections, january.receivable) == (D("1000.00"), 0, D("1500.00"))
    assert january.dso == D("46.5")  # 1,500.00 / 1,000.00 x 31 days
    # 5,500.00 - 150.00 credited - 20.00 voided
    assert february.billings == D("5330.00")
    assert february.collections == D("2700.00")  # 3,000.00 received - 300.00 refunded
    # 1,500.00 + 5,500.00 - 20.00 - 100.00 - 2,840.00 + 250.00 - 60.00
    assert february.receivable == D("4230.00")
    assert february.dso == D("22.2")  # 4,230.00 / 5,330.00 x 28 = 22.22
    assert (march.billings, march.receivable, march.dso) == (0, D("4230.00"), None)


def test_dso_is_none_without_billings() -> None:
    assert days_sales_outstanding(D("100.00"), D("0"), 30) is None
    assert days_sales_outstanding(D("100.00"), D("-5.00"), 30) is None
    assert days_sales_outstanding(D("3700.00"), D("5400.00"), 28) == D("19.2")  # 19.185...


def test_each_currency_has_its_rows_and_its_minor_units() -> None:
    prices = [_price("annual", "100000", currency="JPY"), _price("monthly", "10.00")]

    found = finance_metrics(["2026-02"], [("EUR", "2026-02", Movement.PAID_IN, D("5.00"))], prices)

    assert list(found) == ["EUR", "JPY", "USD"]
    assert found["JPY"][0].mrr == D("8333")  # 100,000 / 12 = 8,333.33 -> no minor units
    assert found["EUR"][0].collections == D("5.00")
    assert found["USD"][0].mrr == D("10.00")
