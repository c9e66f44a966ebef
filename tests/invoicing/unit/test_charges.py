"""The non-recurring lines of the charge calculation, the run scopes, currencies and child accounts."""

from __future__ import annotations

from datetime import date

import pytest

from invoicing.domain.billing_inputs import AdjustmentDirection, BilledCharge
from invoicing.domain.charge_lines import parse_recurring_key, recurring_key
from invoicing.domain.charges import ChargeKind, ChargeScope, ChargeSource, charges_due
from libs.contracts.vocabulary import BillingFrequency
from libs.platform.money import CurrencyMismatch

from .factories_charges import (
    D,
    account,
    adjustment,
    fulfilled,
    inputs,
    one_time_charge,
    rated_usage,
    subscription,
    version,
    with_billed,
)


def test_rated_usage_is_billed_once_its_period_has_ended() -> None:
    given = inputs(rated_usage=[rated_usage(charge="107.59")])
    assert charges_due(given, through=date(2026, 5, 31)) == []
    [line] = charges_due(given, through=date(2026, 6, 1))
    assert (line.kind, line.amount, line.charge_key) == (ChargeKind.USAGE, D("107.59"), "usage:ru_1")
    assert (line.source_kind, line.source_id, line.subscription_id) == (
        ChargeSource.RATED_USAGE,
        "ru_1",
        "sub_u",
    )
    assert (line.period_start, line.period_end, line.price_version) == (date(2026, 5, 1), date(2026, 6, 1), 2)
    assert line.quantity == D(11345)
    assert charges_due(with_billed(given, [line]), through=date(2026, 6, 1)) == []


def test_a_minimum_commitment_shortfall_is_its_own_line() -> None:
    # Usage rated at 30.00 against a 80.00 minimum: 50.00 short.
    given = inputs(rated_usage=[rated_usage(charge="30.00", shortfall="50.00")])
    lines = charges_due(given, through=date(2026, 6, 1))
    assert [(line.kind, line.amount, line.charge_key) for line in lines] == [
        (ChargeKind.USAGE, D("30.00"), "usage:ru_1"),
        (ChargeKind.MINIMUM, D("50.00"), "minimum:ru_1"),
    ]
    assert sum(line.amount for line in lines) == D("30.00") + D("50.00")


def test_prepaid_money_covers_the_usage_first_then_the_shortfall() -> None:
    given = inputs(rated_usage=[rated_usage(charge="30.00", shortfall="50.00", prepaid="40.00")])
    # 30.00 of the 40.00 prepaid pays the usage, the other 10.00 the shortfall.
    lines = charges_due(given, through=date(2026, 6, 1))
    assert [(line.kind, line.amount) for line in lines] == [(ChargeKind.MINIMUM, D("40.00"))]
    assert sum(line.amount for line in lines) == D("30.00") + D("50.00") - D("40.00")


# EXAMPLES §3: 15 platform licenses at 150.00, 12 workshop licenses at 400.00, one delivery 5,000.00.
def test_a_completed_fulfillment_is_invoiced_at_once_on_the_fulfillment_run() -> None:
    ful = [
        fulfilled("platform", quantity="15", unit_price="150.00"),
        fulfilled("workshop_license", quantity="12", unit_price="400.00"),
        fulfilled("workshop", quantity="1", unit_price="5000.00"),
        fulfilled("committed_part", quantity="0", unit_price="99.00"),
    ]
    given = inputs(
        subscription(version(date(2026, 6, 1), term=(date(2026, 6, 1), date(2027, 6, 1)))),
        fulfillments=ful,
        one_time=[one_time_charge(on=date(2026, 6, 5))],
    )
    lines = charges_due(given, through=date(2026, 6, 10), scope=ChargeScope.FULFILLMENTS)
    assert {line.charge_key: line.amount for line in lines} == {
        "fulfillment:ful_1:platform": D(15) * D("150.00"),
        "fulfillment:ful_1:workshop_license": D(12) * D("400.00"),
        "fulfillment:ful_1:workshop": D(1) * D("5000.00"),
    }
    assert sum(line.amount for line in lines) == D("12050.00")
    assert {line.kind for line in lines} == {ChargeKind.FULFILLMENT}
    assert lines[0].charge_key == "fulfillment:ful_1:platform"
    assert (lines[0].source_id, lines[0].reference_id) == ("ful_1:platform", "ord_1")
    assert charges_due(given, through=date(2026, 6, 9), scope=ChargeScope.FULFILLMENTS) == []
    # The scheduled run bills what the on-demand run left, and not the fulfillment again.
    after = with_billed(given, lines)
    assert [line.kind for line in charges_due(after, through=date(2026, 6, 10))] == [
        ChargeKind.RECURRING,
        ChargeKind.ONE_TIME,
    ]


def test_a_fulfillment_discount_comes_off_the_line() -> None:
    given = inputs(fulfillments=[fulfilled("platform", quantity="15", unit_price="150.00", discount="12.5")])
    [line] = charges_due(given, through=date(2026, 6, 10))
    # 2,250.00 less 12.5% = 2,250.00 - 281.25.
    assert (line.list_amount, line.discount_amount, line.amount) == (D("2250.00"), D("281.25"), D("1968.75"))


def test_one_time_charges_go_out_with_the_next_run_whatever_the_accounts_cycle() -> None:
    # An annually billed account: the July overage re-bill goes on the next monthly run.
    seats = subscription(
        version(
            date(2026, 3, 1), term=(date(2026, 3, 1), date(2029, 3, 1)), quantity="250", unit_price="144"
        ),
        period=BillingFrequency.ANNUAL,
    )
    billed_year = [BilledCharge("recurring:sub_1:2026-03-01:2026-03-01", D("36000.00"), "inv_0")]
    given = inputs(seats, one_time=[one_time_charge(on=date(2026, 8, 5))], billed=billed_year)
    assert charges_due(given, through=date(2026, 8, 1)) == []
    [line] = charges_due(given, through=date(2026, 9, 1))
    assert (line.kind, line.amount, line.charge_key) == (ChargeKind.ONE_TIME, D("144.00"), "one_time:otc_1")
    assert (line.source_kind, line.source_id, line.reference_id) == (
        ChargeSource.ONE_TIME_CHARGE,
        "otc_1",
        "ovc_1",
    )


def test_pending_adjustments_are_credits_or_debits() -> None:
    given = inputs(
        adjustments=[
            adjustment("adj_1", amount="25.00"),
            adjustment("adj_2", amount="10.00", direction=AdjustmentDirection.DEBIT),
            adjustment("adj_3", amount="5.00", on=date(2026, 7, 1)),
        ]
    )
    lines = charges_due(given, through=date(2026, 6, 1))
    assert [(line.charge_key, line.amount) for line in lines] == [
        ("adjustment:adj_1", D("-25.00")),
        ("adjustment:adj_2", D("10.00")),
    ]
    assert charges_due(with_billed(given, lines), through=date(2026, 6, 1)) == []


def test_charges_in_another_currency_are_refused_naming_each() -> None:
    given = inputs(rated_usage=[rated_usage(currency="EUR")], one_time=[one_time_charge(currency="GBP")])
    with pytest.raises(CurrencyMismatch) as refused:
        charges_due(given, through=date(2026, 9, 1))
    assert [error.field for error in refused.value.errors] == [
        "rated_usage.ru_1.currency",
        "one_time_charges.otc_1.currency",
    ]
    assert refused.value.status == 422
    # Not yet due: nothing to refuse.
    assert charges_due(given, through=date(2026, 5, 1)) == []


def test_a_child_billed_to_its_parent_keeps_its_own_account_on_the_parents_lines() -> None:
    term = (date(2026, 6, 1), date(2027, 6, 1))
    given = inputs(
        subscription(version(date(2026, 6, 1), term=term), subscription_id="sub_parent", account_id="acct_1"),
        subscription(
            version(date(2026, 6, 1), term=term), subscription_id="sub_child", account_id="acct_child"
        ),
        billing_account=account("acct_1"),
    )
    lines = charges_due(given, through=date(2026, 6, 1))
    assert [(line.subscription_id, line.account_id) for line in lines] == [
        ("sub_child", "acct_child"),
        ("sub_parent", "acct_1"),
    ]


def test_recurring_keys_read_back_even_when_a_subscription_id_holds_a_colon() -> None:
    key = recurring_key("sub:legacy:7", date(2026, 6, 1), date(2026, 6, 16))
    assert key == "recurring:sub:legacy:7:2026-06-01:2026-06-16"
    assert parse_recurring_key(key) == ("sub:legacy:7", date(2026, 6, 1), date(2026, 6, 16))
    assert parse_recurring_key("usage:ru_1") is None
    assert parse_recurring_key("recurring:sub_1:2026-06-01:not-a-date") is None
