"""Cost-plus: one rule for volume and graduated books (DESIGN §7, issue 6 defect 9).

Each band's marked-up price is the vendor's unit cost x (1 + markup), kept to 6 decimals; the
line is the sum of band quantity x that price, so the quote's unit price and its amount agree.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import PricingModel, TierMode
from libs.platform.money import round_money, round_unit_price
from libs.pricing import CostBook, PriceSpec, Tier, cost_plus_unit_price, rate
from tests.pricing.unit.strategies import prices, tier_lists

markups = st.decimals(min_value=0, max_value=200, places=4, allow_nan=False)
counts = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False)
currencies = st.sampled_from(["USD", "JPY", "BHD"])


def _spec(tiers: tuple[Tier, ...], mode: TierMode, markup: D, currency: str = "USD") -> PriceSpec:
    return PriceSpec(PricingModel.COST_PLUS, currency, cost_book=CostBook(tiers, mode, markup))


def test_the_issue_case_bills_the_same_in_both_modes() -> None:
    # One open band at 0.0001, markup 7.5 %, 1,000,000 units: 0.0001075 is kept as 0.000108.
    tiers = (Tier(None, D("0.0001")),)
    for mode in (TierMode.GRADUATED, TierMode.VOLUME):
        charge = rate(_spec(tiers, mode, D("7.5")), D(1_000_000))
        assert charge.effective_unit_price == D("0.000108")
        assert charge.rounded_amount == D("108.00"), mode
        assert cost_plus_unit_price(CostBook(tiers, mode, D("7.5")), D(1_000_000)) == D("0.000108")


@given(price=prices, fee=prices, markup=markups, quantity=counts, currency=currencies)
def test_one_band_bills_the_same_graduated_or_volume(
    price: D, fee: D, markup: D, quantity: D, currency: str
) -> None:
    tiers = (Tier(None, price, fee),)
    graduated = rate(_spec(tiers, TierMode.GRADUATED, markup, currency), quantity)
    volume = rate(_spec(tiers, TierMode.VOLUME, markup, currency), quantity)
    assert graduated.amount == volume.amount
    assert graduated.rounded_amount == volume.rounded_amount
    assert graduated.effective_unit_price == volume.effective_unit_price


@given(price=prices, markup=markups, quantity=counts, mode=st.sampled_from(list(TierMode)))
def test_one_band_amount_is_quantity_times_the_shown_unit_price(
    price: D, markup: D, quantity: D, mode: TierMode
) -> None:
    book = CostBook((Tier(None, price),), mode, markup)
    charge = rate(_spec(book.tiers, mode, markup), quantity)
    shown = cost_plus_unit_price(book, quantity)
    assert shown == round_unit_price(price * (1 + markup / 100))
    assert charge.amount == quantity * shown
    assert charge.rounded_amount == round_money(quantity * shown, "USD")
    if quantity > 0:
        assert charge.effective_unit_price == shown


@given(tiers=tier_lists(with_fees=True), markup=markups, quantity=counts)
def test_every_graduated_band_price_is_kept_to_six_decimals_and_adds_up(
    tiers: tuple[Tier, ...], markup: D, quantity: D
) -> None:
    charge = rate(_spec(tiers, TierMode.GRADUATED, markup), quantity)
    factor = 1 + markup / 100
    for line in charge.breakdown:
        assert line.unit_price == round_unit_price(line.unit_price)
        assert line.flat_fee == round_unit_price(line.flat_fee)
        assert line.amount == line.quantity * line.unit_price + line.flat_fee
    assert sum((line.amount for line in charge.breakdown), D(0)) == charge.amount
    prices_by_band = {round_unit_price(t.unit_price * factor) for t in tiers}
    assert {line.unit_price for line in charge.breakdown} <= prices_by_band


@given(tiers=tier_lists(), markup=markups, quantity=counts)
def test_a_volume_book_prices_every_unit_at_the_totals_band(
    tiers: tuple[Tier, ...], markup: D, quantity: D
) -> None:
    book = CostBook(tiers, TierMode.VOLUME, markup)
    charge = rate(_spec(tiers, TierMode.VOLUME, markup), quantity)
    assert charge.amount == quantity * cost_plus_unit_price(book, quantity)
