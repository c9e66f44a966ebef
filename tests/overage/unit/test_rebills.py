"""Re-bills to the cent, against EXAMPLES §1 and numbers worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.pricing.resold import marked_up_unit_cost, rebill_vendor_charge
from overage.domain.notices import OverageNotice, counts_problem
from overage.domain.rebills import case_notice


def test_examples_1_july_overage_12_seats_at_10_00_marked_up_20_percent_is_144_00() -> None:
    rebill = rebill_vendor_charge(
        quantity=Decimal(12), vendor_unit_cost=Decimal("10.00"), markup_percent=Decimal(20), currency="USD"
    )
    assert (rebill.unit_price, rebill.amount) == (Decimal("12.000000"), Decimal("144.00"))


@pytest.mark.parametrize(
    ("quantity", "cost", "markup", "currency", "unit_price", "amount"),
    [
        # 7.333333 x 1.15 = 8.43333295 -> 8.433333; x 3 = 25.299999 -> 25.30
        ("3", "7.333333", "15", "USD", "8.433333", "25.30"),
        # 0.005 x 1.5 = 0.0075 -> 0.007500; x 1 = 0.0075 -> 0.01 (half up)
        ("1", "0.005", "50", "USD", "0.007500", "0.01"),
        # JPY has no minor units: 1250 x 1.125 = 1406.25 per seat; x 3 = 4218.75 -> 4219
        ("3", "1250", "12.5", "JPY", "1406.250000", "4219"),
        ("0", "10.00", "20", "USD", "12.000000", "0.00"),
    ],
)
def test_rebill_rounds_the_unit_price_to_6_places_then_the_line_to_minor_units(
    quantity: str, cost: str, markup: str, currency: str, unit_price: str, amount: str
) -> None:
    rebill = rebill_vendor_charge(
        quantity=Decimal(quantity),
        vendor_unit_cost=Decimal(cost),
        markup_percent=Decimal(markup),
        currency=currency,
    )
    assert (str(rebill.unit_price), str(rebill.amount)) == (unit_price, amount)


def test_a_negative_cost_or_markup_is_refused() -> None:
    with pytest.raises(ValueError):
        marked_up_unit_cost(Decimal("-1"), Decimal(20))


def _notice(licensed: int, actual: int, overage: int) -> OverageNotice:
    return OverageNotice(
        id="ovn_1",
        vendor_id="ven_1",
        notice_ref="n-2026-07",
        tenant_ref="t-1",
        period_start=date(2026, 7, 1),
        licensed_count=Decimal(licensed),
        actual_count=Decimal(actual),
        overage_count=Decimal(overage),
        vendor_unit_cost=Decimal("10.00"),
        received_at=datetime(2026, 8, 2, tzinfo=UTC),
    )


def test_a_notice_on_its_case_is_priced_keyed_and_flagged_when_licensed_counts_differ() -> None:
    priced = case_notice(
        _notice(250, 262, 12),
        case_id="ovc_1",
        our_licensed_quantity=Decimal(250),
        markup_percent=Decimal(20),
        currency="USD",
    )
    assert (priced.amount, priced.charge_key, priced.licensed_mismatch) == (
        Decimal("144.00"),
        "overage:ven_1:n-2026-07",
        False,
    )
    flagged = case_notice(
        _notice(250, 262, 12),
        case_id="ovc_1",
        our_licensed_quantity=Decimal(240),
        markup_percent=Decimal(20),
        currency="USD",
    )
    assert flagged.licensed_mismatch
    at_licenses = case_notice(
        _notice(250, 250, 0),
        case_id="ovc_1",
        our_licensed_quantity=None,
        markup_percent=Decimal(20),
        currency="USD",
    )
    assert (at_licenses.amount, at_licenses.charge_key) == (Decimal("0.00"), None)


def test_counts_must_add_up() -> None:
    assert counts_problem(licensed=Decimal(250), actual=Decimal(262), overage=Decimal(12)) is None
    assert counts_problem(licensed=Decimal(250), actual=Decimal(240), overage=Decimal(0)) is None
    assert counts_problem(licensed=Decimal(250), actual=Decimal(262), overage=Decimal(10)) is not None
