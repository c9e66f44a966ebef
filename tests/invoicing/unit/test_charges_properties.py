"""Properties of the charge calculation over generated subscriptions (Hypothesis).

- A re-run with the produced lines billed produces nothing.
- Billing in several runs, each seeing only the changes effective by then, ends with the same
  amount under every charge key as one run that knows everything (preview = bill run = re-run),
  and a re-run on any earlier run date then produces nothing.
- A period split by a change bills the prorated sum of its two parts, within half a minor unit
  per line, the parts computed here by days.
- Every line is rounded to its currency's minor units and its list less discount is its amount.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.domain.billing_inputs import BillingInputs, BillingSubscription, SubscriptionVersion
from invoicing.domain.charges import ChargeLine, charges_due
from libs.contracts.vocabulary import BillingFrequency, BillingTiming

from .factories_charges import D, account, inputs, subscription, version, with_billed

MINOR = {"USD": 2, "JPY": 0, "BHD": 3}
currencies = st.sampled_from(sorted(MINOR))
prices = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=4)
quantities = st.integers(min_value=1, max_value=300).map(D)
discounts = st.sampled_from([D(0), D(10), D("12.5"), D(100)])
days_in = st.integers(min_value=0, max_value=700)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[BillingInputs, date]:
    """An account with one subscription: activation (maybe after the term start) and changes."""
    currency = draw(currencies)
    term_start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 400)))
    term_end = term_start + timedelta(days=draw(st.integers(60, 1100)))
    activation = term_start + timedelta(days=draw(st.sampled_from([0, 0, 0, 9, 45])))
    first = version(
        activation,
        term=(term_start, term_end),
        quantity=str(draw(quantities)),
        unit_price=str(draw(prices)),
        discount=str(draw(discounts)),
        discount_cycles=draw(st.none() | st.integers(1, 3)),
    )
    versions = [first]
    renewed_end = term_end + timedelta(days=draw(st.integers(30, 400)))
    renews = draw(st.booleans())
    if renews:
        # An auto-renewal: effective on the term end, which moves on; the term start stays.
        versions.append(
            version(
                term_end,
                term=(term_start, renewed_end),
                quantity=str(draw(quantities)),
                unit_price=str(draw(prices)),
                price_version=9,
                sequence=9,
            )
        )
    for number in range(draw(st.integers(0, 3))):
        effective = activation + timedelta(days=draw(days_in))
        versions.append(
            version(
                effective,
                term=(term_start, renewed_end if renews and effective >= term_end else term_end),
                quantity=str(draw(quantities)),
                unit_price=str(draw(prices)),
                discount=str(draw(discounts)),
                state=draw(st.sampled_from(["active", "active", "suspended", "cancelled"])),
                price_version=number + 2,
                sequence=number + 1,
            )
        )
    versions.sort(key=lambda v: (v.effective_date, v.sequence))
    sub = subscription(
        *versions,
        currency=currency,
        period=draw(st.sampled_from(list(BillingFrequency))),
        timing=draw(st.sampled_from(list(BillingTiming))),
    )
    day = draw(st.integers(1, 31))
    through = term_start + timedelta(days=draw(st.integers(0, 1300)))
    return inputs(sub, billing_account=account(currency=currency, day=day)), through


def knowing_only(given_inputs: BillingInputs, on: date) -> BillingInputs:
    """The inputs as a run on `on` sees them: versions effective by then (and earlier billing)."""
    subscriptions = []
    for sub in given_inputs.subscriptions:
        known = tuple(v for v in sub.versions if v.effective_date <= on)
        if known:
            subscriptions.append(_with_versions(sub, known))
    return BillingInputs(
        account=given_inputs.account, subscriptions=tuple(subscriptions), billed=given_inputs.billed
    )


def _with_versions(
    sub: BillingSubscription, versions: tuple[SubscriptionVersion, ...]
) -> BillingSubscription:
    return BillingSubscription(
        subscription_id=sub.subscription_id,
        account_id=sub.account_id,
        product_id=sub.product_id,
        currency=sub.currency,
        charge_type=sub.charge_type,
        billing_period=sub.billing_period,
        billing_timing=sub.billing_timing,
        versions=versions,
        product_name=sub.product_name,
    )


def by_key(lines: list[ChargeLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line.charge_key] += line.amount
    return {key: total for key, total in totals.items() if total}


@settings(max_examples=150, deadline=None)
@given(timelines())
def test_a_rerun_after_billing_produces_nothing(case: tuple[BillingInputs, date]) -> None:
    given_inputs, through = case
    lines = charges_due(given_inputs, through=through)
    assert charges_due(with_billed(given_inputs, lines), through=through) == []


@settings(max_examples=150, deadline=None)
@given(timelines(), st.lists(st.integers(0, 1300), max_size=6))
def test_several_runs_bill_what_one_run_knowing_everything_bills(
    case: tuple[BillingInputs, date], offsets: list[int]
) -> None:
    given_inputs, through = case
    start = given_inputs.subscriptions[0].versions[0].term_start
    run_dates = sorted({start + timedelta(days=offset) for offset in offsets if offset} | {through})
    billed: list[ChargeLine] = []
    state = given_inputs
    for number, run_date in enumerate(run_dates):
        lines = charges_due(knowing_only(state, run_date), through=run_date)
        billed.extend(lines)
        state = with_billed(state, lines, f"inv_{number}")
    final = run_dates[-1]
    last = charges_due(state, through=final)  # everything known now, even later-effective changes
    billed.extend(last)
    at_once = charges_due(given_inputs, through=final)
    assert by_key(billed) == by_key(at_once)
    # Once all is billed, a re-run on any of the run dates (a late preview) has nothing to do.
    state = with_billed(state, last, "inv_last")
    assert [charges_due(state, through=run_date) for run_date in run_dates] == [[] for _ in run_dates]


@settings(max_examples=150, deadline=None)
@given(timelines())
def test_every_line_is_rounded_once_and_its_discount_adds_up(case: tuple[BillingInputs, date]) -> None:
    given_inputs, through = case
    places = MINOR[given_inputs.account.currency]
    for line in charges_due(given_inputs, through=through):
        assert line.amount.as_tuple().exponent == -places
        assert line.list_amount - line.discount_amount == line.amount
        assert line.amount != 0


@settings(max_examples=200, deadline=None)
@given(
    currency=currencies,
    day=st.integers(1, 31),
    month_offset=st.integers(0, 30),
    old=st.tuples(quantities, prices),
    new=st.tuples(quantities, prices),
    split=st.integers(1, 27),
)
def test_a_period_split_by_a_change_bills_the_prorated_sum(
    currency: str,
    day: int,
    month_offset: int,
    old: tuple[Decimal, Decimal],
    new: tuple[Decimal, Decimal],
    split: int,
) -> None:
    # The period is the month from cycle day `day` (clamped), worked out here by hand.
    year, month = divmod(2026 * 12 + month_offset, 12)
    period_start = _clamped(year, month + 1, day)
    next_year, next_month = divmod(2026 * 12 + month_offset + 1, 12)
    period_end = _clamped(next_year, next_month + 1, day)
    period_days = (period_end - period_start).days
    change = period_start + timedelta(days=split)
    term = (period_start, period_start + timedelta(days=400))
    first = version(period_start, term=term, quantity=str(old[0]), unit_price=str(old[1]))
    changed = version(change, term=term, quantity=str(new[0]), unit_price=str(new[1]), price_version=2)
    before = inputs(
        subscription(first, currency=currency), billing_account=account(currency=currency, day=day)
    )
    billed_at_start = charges_due(before, through=period_start)
    after = with_billed(
        inputs(
            subscription(first, changed, currency=currency),
            billing_account=account(currency=currency, day=day),
        ),
        billed_at_start,
    )
    on_change = charges_due(after, through=change)
    lines = billed_at_start + on_change
    exact = (old[0] * old[1] * split + new[0] * new[1] * (period_days - split)) / period_days
    half_unit = Decimal(1).scaleb(-MINOR[currency]) / 2
    # Two parts, each rounded once (a part that rounds to nothing has no line).
    assert abs(sum(line.amount for line in lines) - exact) <= half_unit * 2
    # The change itself charges or credits the price difference for the remaining days; three
    # roundings stand behind it (the full period billed, the old part, the new part).
    difference = (new[0] * new[1] - old[0] * old[1]) * (period_days - split) / period_days
    assert abs(sum(line.amount for line in on_change) - difference) <= half_unit * 3


def _clamped(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1
