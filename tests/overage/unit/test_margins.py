"""Margin per customer and month: billed - vendor, percent to 2 decimals half up, totals = sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.platform.errors import ValidationFailed
from overage.domain.margins import BilledAmount, margin_percent, margin_report, month_range, monthly_series


def _amount(account: str, day: date, amount: str, currency: str = "USD") -> BilledAmount:
    return BilledAmount(account, currency, day, Decimal(amount))


def test_the_seed_year_keeps_6000_or_16_67_percent() -> None:
    months = month_range("2026-03", "2027-02")
    report = margin_report(
        months,
        [
            _amount("acct_acme", date(2026, 3, 1), "36000.00"),
            _amount("acct_acme", date(2026, 7, 1), "144.00"),
        ],
        [
            _amount("acct_acme", date(2026, 3, 1), "30000.00"),
            _amount("acct_acme", date(2026, 7, 1), "120.00"),
        ],
    )
    rows = [
        (
            line.account_id,
            line.period,
            str(line.billed),
            str(line.vendor_billed),
            str(line.margin),
            str(line.margin_percent),
        )
        for line in report.lines
    ]
    assert rows == [
        ("acct_acme", "2026-03", "36000.00", "30000.00", "6000.00", "16.67"),
        ("acct_acme", "2026-07", "144.00", "120.00", "24.00", "16.67"),
    ]
    (total,) = report.totals
    assert (str(total.billed), str(total.vendor_billed), str(total.margin), str(total.margin_percent)) == (
        "36144.00",
        "30120.00",
        "6024.00",
        "16.67",
    )


def test_percent_rounds_half_up_and_is_none_without_billing() -> None:
    assert margin_percent(Decimal("1.00"), Decimal("8.00")) == Decimal("12.50")
    assert margin_percent(Decimal("0.125"), Decimal("1")) == Decimal("12.50")
    assert margin_percent(Decimal("1"), Decimal("6")) == Decimal("16.67")
    assert margin_percent(Decimal("-1"), Decimal("6")) == Decimal("-16.67")
    assert margin_percent(Decimal("-120.00"), Decimal("0")) is None


def test_a_vendor_invoice_with_nothing_billed_is_a_loss_without_percent() -> None:
    report = margin_report(
        month_range("2026-07", "2026-07"), [], [_amount("acct_b", date(2026, 7, 1), "120.00")]
    )
    (line,) = report.lines
    assert (str(line.margin), line.margin_percent) == ("-120.00", None)


def test_months_outside_the_range_and_currencies_are_kept_apart() -> None:
    report = margin_report(
        month_range("2026-03", "2026-04"),
        [
            _amount("acct_a", date(2026, 3, 1), "100.00"),
            _amount("acct_a", date(2026, 3, 15), "50.00"),
            _amount("acct_a", date(2026, 5, 1), "999.00"),
            _amount("acct_e", date(2026, 4, 1), "80.00", "EUR"),
        ],
        [_amount("acct_a", date(2026, 2, 28), "999.00")],
    )
    assert [(line.account_id, line.period, line.currency, str(line.billed)) for line in report.lines] == [
        ("acct_a", "2026-03", "USD", "150.00"),
        ("acct_e", "2026-04", "EUR", "80.00"),
    ]
    assert [(t.currency, str(t.billed)) for t in report.totals] == [("EUR", "80.00"), ("USD", "150.00")]
    assert [(m.period, str(m.billed)) for m in monthly_series(report, "USD")] == [
        ("2026-03", "150.00"),
        ("2026-04", "0"),
    ]


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("2026-3", "2026-04", "from"),
        ("2026-13", "2027-01", "from"),
        ("2026-05", "2026-04", "to"),
        ("2016-01", "2026-02", "to"),
    ],
)
def test_bad_months_are_refused(first: str, last: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        month_range(first, last)
    assert [e.field for e in refused.value.errors] == [field]


_CENTS = st.integers(min_value=0, max_value=10_000_000_00).map(lambda c: Decimal(c) / 100)
_ENTRY = st.tuples(
    st.sampled_from(["acct_a", "acct_b"]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    _CENTS,
)


@settings(max_examples=50, deadline=None)
@given(billed=st.lists(_ENTRY, max_size=12), vendor=st.lists(_ENTRY, max_size=12))
def test_lines_and_totals_always_add_up(
    billed: list[tuple[str, date, Decimal]], vendor: list[tuple[str, date, Decimal]]
) -> None:
    report = margin_report(
        month_range("2026-01", "2026-12"),
        [BilledAmount(a, "USD", d, x) for a, d, x in billed],
        [BilledAmount(a, "USD", d, x) for a, d, x in vendor],
    )
    assert sum(line.billed for line in report.lines) == sum(x for _, _, x in billed)
    assert sum(line.vendor_billed for line in report.lines) == sum(x for _, _, x in vendor)
    for line in [*report.lines, *report.totals]:
        assert line.margin == line.billed - line.vendor_billed
        if line.billed == 0:
            assert line.margin_percent is None
        else:
            assert line.margin_percent is not None
            assert abs(line.margin_percent - line.margin * 100 / line.billed) <= Decimal("0.005")
    if report.lines:
        (total,) = report.totals
        assert total.margin == sum(line.margin for line in report.lines)
