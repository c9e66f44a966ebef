"""Recurring charges: periods, anchors, proration, credits, bill-back, currencies and re-runs.

Expected amounts are worked out in each test from the case's own numbers (days of the period,
price, quantity), never by calling the calculation.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from invoicing.domain.billing_inputs import BilledCharge, BillingInputs
from invoicing.domain.charges import ChargeKind, ChargeLine, ChargeSource, charges_due
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType

from .factories_charges import D, account, inputs, subscription, version, with_billed

MONTHLY_TERM = (date(2026, 4, 16), date(2027, 4, 16))


def amounts(lines: list[ChargeLine]) -> list[Decimal]:
    return [line.amount for line in lines]


def spans(lines: list[ChargeLine]) -> list[tuple[date | None, date | None]]:
    return [(line.period_start, line.period_end) for line in lines]


def cents(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def bill_on(*run_dates: date, given: BillingInputs) -> list[list[ChargeLine]]:
    """The lines of successive bill runs, each seeing what the earlier ones billed."""
    runs = []
    for number, through in enumerate(run_dates):
        lines = charges_due(given, through=through)
        runs.append(lines)
        given = with_billed(given, lines, f"inv_{number}")
    return runs


# EXAMPLES §1: 250 seats at 12.00 a seat a month, 3-year term from 2026-03-01, annual in advance.
def test_three_year_term_billed_annually_in_advance_gives_exactly_three_invoices() -> None:
    seats = subscription(
        version(
            date(2026, 3, 1),
            term=(date(2026, 3, 1), date(2029, 3, 1)),
            quantity="250",
            unit_price=str(D("12.00") * 12),
        ),
        period=BillingFrequency.ANNUAL,
    )
    run_dates = [date(2026, 3, 1), date(2026, 9, 1), date(2027, 3, 1), date(2028, 3, 1), date(2029, 3, 1)]
    runs = bill_on(*run_dates, given=inputs(seats))

    annual = D(250) * D("12.00") * 12
    assert annual == D("36000.00")
    assert [amounts(r) for r in runs] == [[annual], [], [annual], [annual], []]
    assert [spans(r) for r in runs if r] == [
        [(date(2026, 3, 1), date(2027, 3, 1))],
        [(date(2027, 3, 1), date(2028, 3, 1))],
        [(date(2028, 3, 1), date(2029, 3, 1))],
    ]
    first = runs[0][0]
    assert (first.kind, first.source_kind, first.source_id) == (
        ChargeKind.RECURRING,
        ChargeSource.SUBSCRIPTION,
        "sub_1",
    )
    assert (first.price_id, first.price_version, first.quantity) == ("price_1", 1, D(250))
    assert first.charge_key == "recurring:sub_1:2026-03-01:2026-03-01"


def test_the_whole_term_at_once_still_bills_three_years_not_four() -> None:
    seats = subscription(
        version(
            date(2026, 3, 1), term=(date(2026, 3, 1), date(2029, 3, 1)), quantity="250", unit_price="144"
        ),
        period=BillingFrequency.ANNUAL,
    )
    assert amounts(charges_due(inputs(seats), through=date(2031, 1, 1))) == [D("36000.00")] * 3


# EXAMPLES §6: monthly 300.00 in advance, cycle day 1, started 2026-04-16.
def test_mid_month_start_is_prorated_at_activation_then_the_full_month() -> None:
    april, may = bill_on(
        date(2026, 4, 16),
        date(2026, 5, 1),
        given=inputs(subscription(version(date(2026, 4, 16), term=MONTHLY_TERM))),
    )
    # April has 30 days, 15 of them from the 16th.
    assert amounts(april) == [D(300) * 15 / 30] == [D("150.00")]
    assert spans(april) == [(date(2026, 4, 16), date(2026, 5, 1))]
    assert "15 of 30 days" in april[0].description
    assert amounts(may) == [D("300.00")]
    assert spans(may) == [(date(2026, 5, 1), date(2026, 6, 1))]


def test_nothing_is_billed_in_advance_before_the_first_billable_day() -> None:
    given = inputs(subscription(version(date(2026, 4, 16), term=MONTHLY_TERM)))
    assert charges_due(given, through=date(2026, 4, 15)) == []


def test_a_rerun_with_the_produced_lines_billed_gives_nothing() -> None:
    given = inputs(subscription(version(date(2026, 4, 16), term=MONTHLY_TERM)))
    lines = charges_due(given, through=date(2026, 7, 1))
    assert amounts(lines) == [D("150.00"), D("300.00"), D("300.00"), D("300.00")]
    assert charges_due(with_billed(given, lines), through=date(2026, 7, 1)) == []


def test_an_earlier_rerun_after_a_later_run_credits_nothing() -> None:
    given = inputs(subscription(version(date(2026, 4, 16), term=MONTHLY_TERM)))
    billed = with_billed(given, charges_due(given, through=date(2026, 7, 1)))
    assert charges_due(billed, through=date(2026, 5, 1)) == []


def test_cycle_day_31_falls_on_the_last_day_of_february() -> None:
    given = inputs(
        subscription(version(date(2027, 1, 31), term=(date(2027, 1, 31), date(2029, 1, 31)))),
        billing_account=account(day=31),
    )
    assert spans(charges_due(given, through=date(2027, 2, 27))) == [(date(2027, 1, 31), date(2027, 2, 28))]
    lines_2027 = charges_due(given, through=date(2027, 3, 31))
    assert spans(lines_2027) == [
        (date(2027, 1, 31), date(2027, 2, 28)),
        (date(2027, 2, 28), date(2027, 3, 31)),
        (date(2027, 3, 31), date(2027, 4, 30)),
    ]
    lines_2028 = [
        line
        for line in charges_due(given, through=date(2028, 3, 31))
        if line.period_start and line.period_start.year == 2028
    ]
    assert [line.period_start for line in lines_2028][:3] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]
    assert {line.amount for line in lines_2027 + lines_2028} == {D("300.00")}


def test_quarterly_periods_anchor_on_the_term_start() -> None:
    given = inputs(
        subscription(
            version(date(2026, 2, 15), term=(date(2026, 2, 15), date(2027, 2, 15)), unit_price="900.00"),
            period=BillingFrequency.QUARTERLY,
        ),
        billing_account=account(day=1),  # the cycle day does not move quarterly periods
    )
    lines = charges_due(given, through=date(2026, 5, 15))
    assert spans(lines) == [(date(2026, 2, 15), date(2026, 5, 15)), (date(2026, 5, 15), date(2026, 8, 15))]
    assert amounts(lines) == [D("900.00"), D("900.00")]


def test_in_arrears_bills_a_period_once_it_has_ended() -> None:
    given = inputs(
        subscription(version(date(2026, 4, 16), term=MONTHLY_TERM), timing=BillingTiming.IN_ARREARS)
    )
    assert charges_due(given, through=date(2026, 4, 30)) == []
    april, may_run, june = bill_on(date(2026, 5, 1), date(2026, 5, 31), date(2026, 6, 1), given=given)
    assert amounts(april) == [D("150.00")]
    assert may_run == []
    assert amounts(june) == [D("300.00")]
    assert spans(june) == [(date(2026, 5, 1), date(2026, 6, 1))]


def test_activation_after_the_term_start_bills_back_to_it_on_the_first_invoice() -> None:
    # The provisioning workflow took until 2026-05-10; the term began on 2026-03-01.
    given = inputs(subscription(version(date(2026, 5, 10), term=(date(2026, 3, 1), date(2027, 3, 1)))))
    assert charges_due(given, through=date(2026, 2, 28)) == []
    lines = charges_due(given, through=date(2026, 5, 10))
    assert spans(lines) == [
        (date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2026, 5, 1)),
        (date(2026, 5, 1), date(2026, 6, 1)),
    ]
    assert sum(amounts(lines)) == D("900.00")


def test_annual_bill_back_bills_the_year_from_the_term_start() -> None:
    given = inputs(
        subscription(
            version(
                date(2026, 4, 20), term=(date(2026, 3, 1), date(2029, 3, 1)), quantity="250", unit_price="144"
            ),
            period=BillingFrequency.ANNUAL,
        )
    )
    lines = charges_due(given, through=date(2026, 4, 20))
    assert spans(lines) == [(date(2026, 3, 1), date(2027, 3, 1))]
    assert amounts(lines) == [D("36000.00")]


def test_mid_period_upgrade_credits_the_old_price_and_charges_the_new_for_the_remaining_days() -> None:
    start = version(date(2026, 6, 1), term=(date(2026, 6, 1), date(2027, 6, 1)))
    before = inputs(subscription(start))
    june = charges_due(before, through=date(2026, 6, 1))
    assert amounts(june) == [D("300.00")]

    upgraded = version(date(2026, 6, 16), term=(date(2026, 6, 1), date(2027, 6, 1)), quantity="2")
    after = with_billed(inputs(subscription(start, upgraded)), june)
    lines = charges_due(after, through=date(2026, 6, 16))
    # June has 30 days; 15 remain from the 16th: -300 x 15/30 for the old, 600 x 15/30 for the new.
    assert [(line.kind, line.amount) for line in lines] == [
        (ChargeKind.RECURRING_CREDIT, -D(300) * 15 / 30),
        (ChargeKind.RECURRING, D(600) * 15 / 30),
    ]
    assert spans(lines) == [(date(2026, 6, 16), date(2026, 7, 1))] * 2
    assert lines[0].description.startswith("Credit for unused time")
    # The net is the price difference x remaining days / period days (DESIGN §7).
    assert sum(amounts(lines)) == (D(600) - D(300)) * 15 / 30
    assert charges_due(with_billed(after, lines, "inv_2"), through=date(2026, 6, 16)) == []


def test_mid_period_downgrade_credits_the_unused_days() -> None:
    term = (date(2026, 6, 1), date(2027, 6, 1))
    start = version(date(2026, 6, 1), term=term, quantity="10", unit_price="31.00")
    june = charges_due(inputs(subscription(start)), through=date(2026, 6, 1))
    downgraded = version(date(2026, 6, 11), term=term, quantity="4", unit_price="31.00", price_version=2)
    lines = charges_due(with_billed(inputs(subscription(start, downgraded)), june), through=date(2026, 6, 30))
    # 20 of June's 30 days remain: credit 310 x 20/30, charge 124 x 20/30.
    assert amounts(lines) == [cents(-D(310) * 20 / 30), cents(D(124) * 20 / 30)] == [D("-206.67"), D("82.67")]
    assert [line.price_version for line in lines] == [1, 2]
    assert lines[0].list_amount == D("-206.67") and lines[0].discount_amount == 0


def test_cancellation_mid_period_credits_the_unused_already_billed_days() -> None:
    term = (date(2026, 6, 1), date(2027, 6, 1))
    start = version(date(2026, 6, 1), term=term)
    june = charges_due(inputs(subscription(start)), through=date(2026, 6, 1))
    cancelled = version(date(2026, 6, 21), term=term, state="cancelled")
    given = with_billed(inputs(subscription(start, cancelled)), june)
    lines = charges_due(given, through=date(2026, 8, 1))
    assert [(line.kind, line.amount) for line in lines] == [(ChargeKind.RECURRING_CREDIT, -D(300) * 10 / 30)]
    assert spans(lines) == [(date(2026, 6, 21), date(2026, 7, 1))]


def test_cancellation_on_a_period_start_credits_the_whole_period_billed_in_advance() -> None:
    term = (date(2026, 6, 1), date(2027, 6, 1))
    start = version(date(2026, 6, 1), term=term)
    billed = charges_due(inputs(subscription(start)), through=date(2026, 7, 1))
    cancelled = version(date(2026, 7, 1), term=term, state="cancelled")
    lines = charges_due(with_billed(inputs(subscription(start, cancelled)), billed), through=date(2026, 7, 1))
    assert [(line.kind, line.amount, line.charge_key) for line in lines] == [
        (ChargeKind.RECURRING_CREDIT, D("-300.00"), "recurring:sub_1:2026-07-01:2026-07-01")
    ]
    assert spans(lines) == [(date(2026, 7, 1), date(2026, 8, 1))]


def test_a_cancellation_known_before_the_period_is_billed_bills_only_the_days_used() -> None:
    term = (date(2026, 6, 1), date(2027, 6, 1))
    given = inputs(
        subscription(
            version(date(2026, 6, 1), term=term), version(date(2026, 6, 11), term=term, state="cancelled")
        )
    )
    assert amounts(charges_due(given, through=date(2026, 12, 1))) == [D("100.00")]


def test_suspension_keeps_billing_and_expiry_stops_it() -> None:
    term = (date(2026, 6, 1), date(2026, 9, 1))
    given = inputs(
        subscription(
            version(date(2026, 6, 1), term=term),
            version(date(2026, 7, 1), term=term, state="suspended"),
            version(date(2026, 9, 1), term=term, state="expired"),
        )
    )
    assert amounts(charges_due(given, through=date(2026, 12, 1))) == [D("300.00")] * 3


def test_term_billing_bills_each_term_once_and_each_renewal_as_a_new_term() -> None:
    # Provisioning renews by moving term_end on; the new term is [previous term end, term end).
    first_term = (date(2026, 1, 1), date(2027, 1, 1))
    renewed = version(
        date(2027, 1, 1), term=(date(2026, 1, 1), date(2028, 1, 1)), unit_price="5200.00", price_version=2
    )
    given = inputs(
        subscription(
            version(date(2026, 1, 1), term=first_term, unit_price="5000.00"),
            renewed,
            period=BillingFrequency.TERM,
        )
    )
    runs = bill_on(date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1), date(2027, 6, 1), given=given)
    assert [amounts(run) for run in runs] == [[D("5000.00")], [], [D("5200.00")], []]
    assert [spans(run) for run in runs if run] == [
        [first_term],
        [(date(2027, 1, 1), date(2028, 1, 1))],
    ]


def test_a_monthly_subscription_keeps_billing_after_it_renews() -> None:
    given = inputs(
        subscription(
            version(date(2026, 1, 1), term=(date(2026, 1, 1), date(2026, 3, 1))),
            version(date(2026, 3, 1), term=(date(2026, 1, 1), date(2026, 5, 1))),
        )
    )
    assert amounts(charges_due(given, through=date(2026, 9, 1))) == [D("300.00")] * 4


def test_a_discount_applies_for_its_remaining_cycles_only() -> None:
    given = inputs(
        subscription(version(date(2026, 4, 16), term=MONTHLY_TERM, discount="20", discount_cycles=2))
    )
    lines = charges_due(given, through=date(2026, 6, 1))
    # April (15 of 30 days) and May at 20% off, June at list.
    assert [(line.list_amount, line.discount_amount, line.amount) for line in lines] == [
        (D("150.00"), D("30.00"), D("120.00")),
        (D("300.00"), D("60.00"), D("240.00")),
        (D("300.00"), D("0.00"), D("300.00")),
    ]


def test_zero_decimal_currency_rounds_to_whole_yen_once_per_line() -> None:
    given = inputs(
        subscription(
            version(date(2026, 5, 15), term=(date(2026, 5, 15), date(2027, 5, 15)), unit_price="10000"),
            currency="JPY",
        ),
        billing_account=account(currency="JPY"),
    )
    lines = charges_due(given, through=date(2026, 6, 1))
    # 17 of May's 31 days: 10000 x 17 / 31 = 5483.87... -> 5484.
    assert amounts(lines) == [cents(D(10000) * 17 / 31, "1"), D(10000)] == [D(5484), D(10000)]
    assert lines[0].amount.as_tuple().exponent == 0


def test_three_decimal_currency_rounds_to_fils() -> None:
    given = inputs(
        subscription(
            version(
                date(2026, 5, 22),
                term=(date(2026, 5, 22), date(2027, 5, 22)),
                quantity="10",
                unit_price="1.234",
            ),
            currency="BHD",
        ),
        billing_account=account(currency="BHD"),
    )
    lines = charges_due(given, through=date(2026, 5, 22))
    # 10 of May's 31 days: 12.34 x 10 / 31 = 3.98064... -> 3.981.
    assert amounts(lines) == [cents(D("12.34") * 10 / 31, "0.001")] == [D("3.981")]


def test_cancelling_a_term_billed_in_advance_credits_the_unused_days_of_the_term() -> None:
    term = (date(2026, 1, 1), date(2027, 1, 1))
    start = version(date(2026, 1, 1), term=term, unit_price="3650.00")
    billed = charges_due(inputs(subscription(start, period=BillingFrequency.TERM)), through=date(2026, 1, 1))
    assert amounts(billed) == [D("3650.00")]
    cancelled = version(date(2026, 7, 1), term=term, unit_price="3650.00", state="cancelled")
    given = with_billed(inputs(subscription(start, cancelled, period=BillingFrequency.TERM)), billed)
    lines = charges_due(given, through=date(2026, 7, 1))
    # 181 of the term's 365 days were used; 184 are credited.
    assert amounts(lines) == [-D("3650.00") * 184 / 365] == [D("-1840.00")]
    assert spans(lines) == [(date(2026, 7, 1), date(2027, 1, 1))]


def test_a_credit_shows_its_share_of_list_and_discount_when_the_billed_list_is_known() -> None:
    term = (date(2026, 6, 1), date(2027, 6, 1))
    start = version(date(2026, 6, 1), term=term, discount="20")
    june = charges_due(inputs(subscription(start)), through=date(2026, 6, 1))
    assert [(line.list_amount, line.discount_amount, line.amount) for line in june] == [
        (D("300.00"), D("60.00"), D("240.00"))
    ]
    cancelled = version(date(2026, 6, 16), term=term, discount="20", state="cancelled")
    after = inputs(subscription(start, cancelled))
    [credit] = charges_due(with_billed(after, june), through=date(2026, 6, 16))
    # Half of June unused: list 150.00, discount 30.00, net 120.00, all credited.
    assert (credit.list_amount, credit.discount_amount, credit.amount) == (
        D("-150.00"),
        D("-30.00"),
        D("-120.00"),
    )
    # Without the billed line's list amount, the credit shows only its net.
    unknown_list = inputs(
        subscription(start, cancelled),
        billed=[BilledCharge(line.charge_key, line.amount, "inv_1") for line in june],
    )
    [net_only] = charges_due(unknown_list, through=date(2026, 6, 16))
    assert (net_only.list_amount, net_only.discount_amount, net_only.amount) == (
        D("-120.00"),
        D("0"),
        D("-120.00"),
    )


def test_quarterly_in_arrears_bills_a_cancelled_quarter_for_its_days_at_its_end() -> None:
    term = (date(2026, 1, 1), date(2027, 1, 1))
    given = inputs(
        subscription(
            version(date(2026, 1, 1), term=term, unit_price="910.00"),
            version(date(2026, 5, 1), term=term, unit_price="910.00", state="cancelled"),
            period=BillingFrequency.QUARTERLY,
            timing=BillingTiming.IN_ARREARS,
        )
    )
    assert amounts(charges_due(given, through=date(2026, 6, 30))) == [D("910.00")]
    lines = charges_due(given, through=date(2026, 7, 1))
    # [2026-04-01, 2026-07-01) has 91 days; April's 30 were used.
    assert amounts(lines) == [D("910.00"), D(910) * 30 / 91] == [D("910.00"), D("300.00")]


def test_usage_and_one_time_subscriptions_have_no_recurring_lines() -> None:
    term = (date(2026, 1, 1), date(2027, 1, 1))
    given = inputs(
        subscription(version(date(2026, 1, 1), term=term), charge_type=ChargeType.USAGE),
        subscription(
            version(date(2026, 1, 1), term=term), subscription_id="sub_2", charge_type=ChargeType.ONE_TIME
        ),
    )
    assert charges_due(given, through=date(2026, 6, 1)) == []


# A bill run's accounts share their subscriptions' shapes (prices, terms, cycle days): the
# periods and segments of a shape are worked out once and kept, in a bounded memo.
def test_accounts_of_the_same_terms_written_differently_keep_their_own_quantities_and_prices() -> None:
    term = (date(2026, 4, 16), date(2027, 4, 16))
    plain = subscription(version(date(2026, 4, 16), term=term, quantity="25", unit_price="12.00"))
    wider = subscription(
        version(date(2026, 4, 16), term=term, quantity="25.000", unit_price="12.0000"),
        subscription_id="sub_2",
        account_id="acct_2",
    )
    first = charges_due(inputs(plain), through=date(2026, 5, 16))
    second = charges_due(inputs(wider, billing_account=account("acct_2")), through=date(2026, 5, 16))
    # 25 x 12.00 for 15 of 30 days, then the period from May 1.
    assert amounts(first) == amounts(second) == [D("150.00"), D("300.00")]
    assert [(line.quantity, line.unit_price) for line in first] == [(D("25"), D("12.00"))] * 2
    assert [str(line.quantity) for line in second] == ["25.000", "25.000"]
    assert [str(line.unit_price) for line in second] == ["12.0000", "12.0000"]
    assert [(line.account_id, line.source_id) for line in second] == [("acct_2", "sub_2")] * 2


def test_the_memo_of_periods_stays_bounded_over_many_different_subscriptions() -> None:
    from invoicing.domain.recurring_charges import PLAN_CACHE_SIZE, _cached_plan

    for n in range(PLAN_CACHE_SIZE + 200):
        start = date.fromordinal(date(2026, 1, 1).toordinal() + n)
        one = subscription(version(start, term=(start, date(2030, 1, 1))))
        assert charges_due(inputs(one), through=start)[0].period_start == start
    assert _cached_plan.cache_info().currsize <= PLAN_CACHE_SIZE


def test_the_amounts_due_shared_by_accounts_of_equal_terms_are_those_each_gets_alone() -> None:
    # What a segment is due with nothing billed is kept per its terms' values and days: an
    # account whose terms are written otherwise (25 / 25.000, 20 / 20.0 % off) must get, digit
    # for digit, what it gets when computed first.
    from invoicing.domain.recurring_charges import _owed_anew

    term = (date(2026, 4, 16), date(2027, 4, 16))
    writings = [("25", "12.00", "20"), ("25.000", "12.0000", "20.0"), ("2.5E+1", "12", "2E+1")]

    def shown(quantity: str, unit_price: str, discount: str, currency: str) -> list[tuple[str, str, str]]:
        terms = version(
            date(2026, 4, 16), term=term, quantity=quantity, unit_price=unit_price, discount=discount
        )
        given = inputs(subscription(terms, currency=currency), billing_account=account(currency=currency))
        lines = charges_due(given, through=date(2026, 5, 16))
        return [(str(line.list_amount), str(line.discount_amount), str(line.amount)) for line in lines]

    for currency in ("USD", "JPY", "BHD"):
        alone = []
        for writing in writings:
            _owed_anew.cache_clear()
            alone.append(shown(*writing, currency))
        assert alone[0] == alone[1] == alone[2]
        for writing in writings:  # the memo now holds the first writing's amounts
            assert shown(*writing, currency) == alone[0]
    assert alone[0] == [("150.000", "30.000", "120.000"), ("300.000", "60.000", "240.000")]  # BHD, 3 places
