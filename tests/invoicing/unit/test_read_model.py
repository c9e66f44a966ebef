"""The pure rules of the read model: who invoices an account's charges, and which approved order
lines are order fees (the complement of what provisioning bills on fulfillment)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.read_model import ApprovedOrderLine, PriceTerms, invoiced_account_id, order_fee_of
from libs.contracts.vocabulary import BillingTiming, ChargeType, LicenseType


def _account(account_id: str, parent: str | None = None, *, bills_to_parent: bool = False) -> BillingAccount:
    return BillingAccount(
        account_id=account_id,
        customer_id="cus_1",
        name=account_id,
        currency="JPY",
        bill_cycle_day=1,
        time_zone="Asia/Tokyo",
        parent_account_id=parent,
        bills_to_parent=bills_to_parent,
    )


def test_charges_go_to_the_nearest_ancestor_that_invoices_itself() -> None:
    accounts = {
        a.account_id: a
        for a in (
            _account("top"),
            _account("mid", "top", bills_to_parent=True),
            _account("leaf", "mid", bills_to_parent=True),
            _account("own", "top"),
            _account("orphan", "unknown", bills_to_parent=True),
            _account("loop_a", "loop_b", bills_to_parent=True),
            _account("loop_b", "loop_a", bills_to_parent=True),
        )
    }
    assert [invoiced_account_id(a, accounts) for a in ("top", "mid", "leaf", "own")] == [
        "top",
        "top",
        "top",
        "own",
    ]
    # A parent not known yet, or a loop in bad data: nobody invoices it (it waits, the run goes on).
    assert invoiced_account_id("orphan", accounts) is None
    assert invoiced_account_id("loop_a", accounts) is None


def _line(license_type: LicenseType) -> ApprovedOrderLine:
    return ApprovedOrderLine(
        order_id="ord_1",
        order_line_id="ol_1",
        account_id="acct_1",
        currency="JPY",
        approved_at=datetime(2026, 4, 30, 16, tzinfo=UTC),
        product_id="prod_bundle",
        price_id="price_bundle",
        price_version=2,
        quantity=Decimal(300),
        unit_price=Decimal("1234.5"),
        discount_percent=Decimal("5"),
        license_type=license_type,
    )


ONE_TIME = PriceTerms(
    "price_bundle", 2, "prod_bundle", "JPY", ChargeType.ONE_TIME, None, BillingTiming.IN_ADVANCE
)


@pytest.mark.parametrize(
    "license_type", [LicenseType.COMMITTED, LicenseType.NAMED_USER, LicenseType.SUBSCRIPTION]
)
def test_a_one_time_line_not_billed_on_fulfillment_is_an_order_fee(license_type: LicenseType) -> None:
    fee = order_fee_of(_line(license_type), ONE_TIME, _account("acct_1"), "Bundle")
    assert fee is not None
    # 300 x 1,234.5 = 370,350 JPY, less 5% (18,517.5 → 18,518) = 351,832; Tokyo is already on May 1.
    assert (fee.amount, fee.charge_date, fee.description) == (Decimal("351832"), date(2026, 5, 1), "Bundle")


@pytest.mark.parametrize("license_type", [LicenseType.PAY_AS_YOU_GO, LicenseType.NONE])
def test_a_one_time_line_billed_on_fulfillment_is_no_order_fee(license_type: LicenseType) -> None:
    assert order_fee_of(_line(license_type), ONE_TIME, _account("acct_1"), None) is None


def test_a_line_whose_price_is_recurring_or_unknown_is_no_order_fee() -> None:
    recurring = PriceTerms(
        "price_bundle", 2, "prod_bundle", "JPY", ChargeType.RECURRING, None, BillingTiming.IN_ADVANCE
    )
    assert order_fee_of(_line(LicenseType.COMMITTED), recurring, _account("acct_1"), None) is None
    assert order_fee_of(_line(LicenseType.COMMITTED), None, _account("acct_1"), None) is None
