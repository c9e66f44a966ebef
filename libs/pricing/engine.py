"""Turns a quantity into an amount under a price spec (DESIGN §7).

The one implementation of the pricing math: catalog quotes, provisioning orders, rating and
invoicing all call `rate`. Amounts are exact until `Charge.rounded_amount`, which rounds the
line once to the currency's minor units; the tier breakdown stays unrounded.

Decisions worth knowing:
- Included units are a free first band counted against total usage, for every model but flat.
  Graduated: a band's billable units are the part of it above the included quantity.
  Volume (and volume cost books): the band is chosen by the TOTAL quantity and its price is
  applied to quantity minus included units.
- A tier's flat fee is charged when at least one billable unit falls in that band (volume: in
  the chosen band); a band covered only by included units charges nothing.
- Flat means a fixed amount: any positive quantity is charged `amount` once (N seats do not
  make N x amount; per_unit is the per-seat model). A zero quantity is charged nothing, like
  every other model, so a removed line costs zero.
- Package: `unit_price` is the price of one package; ceil(billable / package_size) packages.
- Cost-plus, one rule for both modes of the vendor cost book: each band's price is the
  vendor's unit cost x (1 + markup/100) kept to 6 decimals, half up (its flat fee likewise),
  and the book's tiers at those prices are then applied like any price's tiers. Volume: every
  billable unit at the marked-up price of the total's band. Graduated: the sum over bands of
  band quantity x marked-up band price. So one open band bills the same in both modes, the
  amount is exactly quantity x the shown unit price, and the breakdown adds up to the amount.
- Periods (DESIGN §7 "Periods of prices"): a cost book's tiers are per unit per its period
  (monthly by default); a spec with a billing period bills each band at cost x
  `period_factor(book period, billing period, term months)` x (1 + markup), kept to 6
  decimals after the markup: a monthly book billed annually is x 12. `cost_plus_unit_price`
  and `vendor_cost` answer per the book's own period.
- All arithmetic runs in a local 50-digit decimal context, so 10^15 units keep their cents.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

from libs.contracts.vocabulary import PricingModel, TierMode
from libs.platform.errors import ValidationFailed
from libs.platform.money import round_money, round_unit_price
from libs.pricing.model import ZERO, CostBook, PriceSpec, Tier
from libs.pricing.periods import period_factor
from libs.pricing.validation import validate_cost_book, validate_price_spec

PRECISION = 50
ONE = Decimal("1")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class TierLine:
    """One informational, unrounded band of a charge.

    `band_from` is exclusive and `band_to` inclusive (None = open-ended): units 1,001-10,000
    show as band_from=1000, band_to=10000. For the package model `quantity` counts packages.
    """

    band_from: Decimal
    band_to: Decimal | None
    quantity: Decimal
    unit_price: Decimal
    flat_fee: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Charge:
    """The priced quantity: exact amount, the line rounded once, and how it was built."""

    currency: str
    quantity: Decimal
    billable_quantity: Decimal
    amount: Decimal
    rounded_amount: Decimal
    breakdown: tuple[TierLine, ...]
    effective_unit_price: Decimal
    minimum_shortfall: Decimal = ZERO


@contextmanager
def _exact() -> Iterator[None]:
    """A decimal context wide enough that no realistic amount loses a digit."""
    with localcontext(prec=PRECISION, rounding=ROUND_HALF_UP):
        yield


@lru_cache(maxsize=4096)
def _validated(spec_repr: str, spec: PriceSpec) -> None:
    validate_price_spec(spec)


_VALIDATED_OBJECTS: dict[int, PriceSpec] = {}
"""Specs validated, by identity (each kept, so its id is never another object's)."""


def _validate_once(spec: PriceSpec) -> None:
    # A price is rated many times (every line of a bill run): validate each distinct spec once.
    # The key is the repr, which tells Decimal("1") from 1.0 — equal, and equal-hashing, as
    # values, but only the first is a valid price. A spec object rated again (a cached one: an
    # entitlement check rates its spec twice a call) skips even the repr.
    if _VALIDATED_OBJECTS.get(id(spec)) is spec:
        return
    _validated(repr(spec), spec)
    if len(_VALIDATED_OBJECTS) >= 4096:
        _VALIDATED_OBJECTS.clear()
    _VALIDATED_OBJECTS[id(spec)] = spec


def rate(spec: PriceSpec, quantity: Decimal) -> Charge:
    """Price `quantity` under `spec`; raises ValidationFailed for a bad spec or quantity."""
    _validate_once(spec)
    qty = _check_quantity(quantity)
    with _exact():
        included = Decimal(spec.included_quantity)
        billable = max(ZERO, qty - included) if spec.model != PricingModel.FLAT else qty
        amount, lines = _price(spec, qty, included, billable)
        rounded = round_money(amount, spec.currency)
        shortfall = ZERO
        if spec.minimum_commitment is not None:
            # Against the rounded line, so line + shortfall line is exactly the floor.
            shortfall = round_money(apply_minimum(rounded, spec.minimum_commitment), spec.currency)
        effective = round_unit_price(amount / qty) if qty > 0 else ZERO
        return Charge(
            currency=spec.currency,
            quantity=qty,
            billable_quantity=billable,
            amount=amount,
            rounded_amount=rounded,
            breakdown=tuple(lines),
            effective_unit_price=effective,
            minimum_shortfall=shortfall,
        )


def vendor_cost(book: CostBook, quantity: Decimal) -> Decimal:
    """What the vendor charges for `quantity` units under its cost book (exact, no markup)."""
    validate_cost_book(book)
    qty = _check_quantity(quantity)
    with _exact():
        if book.mode == TierMode.VOLUME:
            return _volume(book.tiers, qty, ZERO)[0]
        return _graduated(book.tiers, qty, ZERO)[0]


def vendor_period_cost(
    book: CostBook, quantity: Decimal, billing_period: str, term_months: int | None = None
) -> Decimal:
    """What the vendor charges for `quantity` units over one `billing_period` (exact, no markup).

    The book's cost for its own period x how many of its periods the billing period holds
    (DESIGN §7 "Periods of prices"): a monthly book's annual invoice for 250 seats at 10.00 is
    250 x 10.00 x 12.
    """
    factor = period_factor(book.period, billing_period, term_months)
    cost = vendor_cost(book, quantity)
    with _exact():
        return cost * factor


def cost_plus_unit_price(book: CostBook, quantity: Decimal) -> Decimal:
    """Our unit price for `quantity`: vendor unit cost x (1 + markup/100), to 6 decimals.

    Volume books use the marked-up price of the band the total falls in; graduated books the
    average of the marked-up banded total (the first band's price for a zero quantity).
    """
    validate_cost_book(book)
    qty = _check_quantity(quantity)
    with _exact():
        tiers = _marked_up(book)
        if book.mode == TierMode.VOLUME:
            return _volume_band(tiers, qty)[1].unit_price
        if qty == 0:
            return tiers[0].unit_price
        return round_unit_price(_graduated(tiers, qty, ZERO)[0] / qty)


def apply_minimum(charge_amount: Decimal, minimum: Decimal | None) -> Decimal:
    """The shortfall (>= 0) that lifts `charge_amount` to the minimum commitment."""
    if minimum is None:
        return ZERO
    with _exact():
        return max(ZERO, Decimal(minimum) - Decimal(charge_amount))


def _price(
    spec: PriceSpec, qty: Decimal, included: Decimal, billable: Decimal
) -> tuple[Decimal, list[TierLine]]:
    model = spec.model
    if model == PricingModel.FLAT:
        assert spec.amount is not None
        if qty == 0:
            return ZERO, []
        flat = Decimal(spec.amount)
        return flat, [TierLine(ZERO, None, ONE, flat, ZERO, flat)]
    if model == PricingModel.TIERED_GRADUATED:
        return _graduated(spec.tiers, qty, included)
    if model == PricingModel.TIERED_VOLUME:
        return _volume(spec.tiers, qty, included)
    if model == PricingModel.COST_PLUS:
        assert spec.cost_book is not None
        return _cost_plus(spec.cost_book, qty, included, _spec_period_factor(spec))
    assert spec.unit_price is not None
    price = Decimal(spec.unit_price)
    lines = _included_line(qty, included)
    if model == PricingModel.PACKAGE:
        assert spec.package_size is not None
        packages = (billable / Decimal(spec.package_size)).to_integral_value(ROUND_CEILING)
        amount = packages * price
        if packages > 0:
            lines.append(TierLine(included, None, packages, price, ZERO, amount))
        return amount, lines
    amount = billable * price
    if billable > 0:
        lines.append(TierLine(included, None, billable, price, ZERO, amount))
    return amount, lines


def _graduated(tiers: Sequence[Tier], qty: Decimal, included: Decimal) -> tuple[Decimal, list[TierLine]]:
    lines = _included_line(qty, included)
    total = ZERO
    lower = ZERO
    for tier in tiers:
        upper = tier.up_to
        start = max(lower, included)
        end = qty if upper is None else min(qty, Decimal(upper))
        units = end - start
        if units > 0:
            price = Decimal(tier.unit_price)
            fee = Decimal(tier.flat_fee)
            amount = units * price + fee
            total += amount
            lines.append(TierLine(start, upper, units, price, fee, amount))
        if upper is None or qty <= upper:
            break
        lower = Decimal(upper)
    return total, lines


def _volume(tiers: Sequence[Tier], qty: Decimal, included: Decimal) -> tuple[Decimal, list[TierLine]]:
    lower, tier = _volume_band(tiers, qty)
    lines = _included_line(qty, included)
    billable = max(ZERO, qty - included)
    if billable == 0:
        return ZERO, lines
    price = Decimal(tier.unit_price)
    fee = Decimal(tier.flat_fee)
    amount = billable * price + fee
    lines.append(TierLine(lower, tier.up_to, billable, price, fee, amount))
    return amount, lines


def _volume_band(tiers: Sequence[Tier], qty: Decimal) -> tuple[Decimal, Tier]:
    """The band the total quantity falls in, with its exclusive lower edge."""
    lower = ZERO
    for tier in tiers:
        if tier.up_to is None or qty <= tier.up_to:
            return lower, tier
        lower = Decimal(tier.up_to)
    return lower, tiers[-1]


def _spec_period_factor(spec: PriceSpec) -> int:
    """Book periods per billing period of a cost-plus spec; 1 when the spec names no period."""
    if spec.billing_period is None or spec.cost_book is None:
        return 1
    return period_factor(spec.cost_book.period, spec.billing_period, spec.term_months)


def _cost_plus(
    book: CostBook, qty: Decimal, included: Decimal, factor: int = 1
) -> tuple[Decimal, list[TierLine]]:
    tiers = _marked_up(book, factor)
    if book.mode == TierMode.VOLUME:
        return _volume(tiers, qty, included)
    return _graduated(tiers, qty, included)


def _marked_up(book: CostBook, periods: int = 1) -> tuple[Tier, ...]:
    """The book's tiers at our prices: cost x periods x (1 + markup/100), each kept to 6 decimals.

    `periods` is how many of the book's periods one billing period holds (`period_factor`).
    Rounded per band, once, after the markup and before any quantity is applied, so that
    graduated and volume books follow the same rule and a line's shown unit price is the price
    it was billed at.
    """
    factor = periods * (ONE + Decimal(book.markup_percent) / HUNDRED)
    return tuple(
        Tier(
            tier.up_to,
            round_unit_price(Decimal(tier.unit_price) * factor),
            round_unit_price(Decimal(tier.flat_fee) * factor),
        )
        for tier in book.tiers
    )


def _included_line(qty: Decimal, included: Decimal) -> list[TierLine]:
    if included <= 0 or qty <= 0:
        return []
    return [TierLine(ZERO, included, min(qty, included), ZERO, ZERO, ZERO)]


def _check_quantity(quantity: Decimal) -> Decimal:
    if isinstance(quantity, bool) or not isinstance(quantity, Decimal | int):
        raise ValidationFailed.single("quantity", "must be a decimal number")
    qty = Decimal(quantity)
    if not qty.is_finite():
        raise ValidationFailed.single("quantity", "must be a finite number")
    if qty < 0:
        raise ValidationFailed.single("quantity", "must not be negative")
    return qty
