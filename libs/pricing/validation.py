"""Refuses a price spec that cannot be priced, listing every problem with its field path."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from libs.contracts.vocabulary import BillingFrequency, PricingModel, TierPeriod
from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.money import (
    UNIT_PRICE_PLACES,
    decimal_places,
    is_known_currency,
    minor_units,
    minor_units_problem,
)
from libs.pricing.model import CostBook, PriceSpec, Tier
from libs.pricing.periods import period_factor

_TIERED = (PricingModel.TIERED_GRADUATED, PricingModel.TIERED_VOLUME)

# The fields each model reads; any other pricing field set on the spec is a mistake.
_USES: dict[PricingModel, frozenset[str]] = {
    PricingModel.FLAT: frozenset({"amount"}),
    PricingModel.PER_UNIT: frozenset({"unit_price"}),
    PricingModel.TIERED_GRADUATED: frozenset({"tiers"}),
    PricingModel.TIERED_VOLUME: frozenset({"tiers"}),
    PricingModel.PACKAGE: frozenset({"unit_price", "package_size"}),
    PricingModel.COST_PLUS: frozenset({"cost_book"}),
}


def validate_price_spec(spec: PriceSpec) -> None:
    """Raise ValidationFailed listing every problem of `spec`; return None when it is sound."""
    errors = FieldErrors()
    try:
        model = PricingModel(spec.model)
    except ValueError:
        errors.add("model", f"unknown pricing model {spec.model!r}")
        errors.raise_if_any("The price is invalid")
        return
    places = _check_currency(spec.currency, errors)

    uses = _USES[model]
    present = {
        "amount": spec.amount is not None,
        "unit_price": spec.unit_price is not None,
        "tiers": bool(spec.tiers),
        "package_size": spec.package_size is not None,
        "cost_book": spec.cost_book is not None,
    }
    for name, is_set in present.items():
        if name in uses and not is_set:
            message = (
                f"at least one tier is required for the {model.value} model"
                if name == "tiers"
                else f"is required for the {model.value} model"
            )
            errors.add(name, message, "required")
        elif name not in uses and is_set:
            errors.add(name, f"is not used by the {model.value} model", "not_allowed")

    _check_price(spec.unit_price, "unit_price", errors)
    _check_amount(spec.amount, "amount", places is not None, spec.currency, errors)
    if model in _TIERED:
        check_tiers(spec.tiers, "tiers", errors)
    if (
        model == PricingModel.PACKAGE
        and spec.package_size is not None
        and _check_number(spec.package_size, "package_size", errors)
        and spec.package_size <= 0
    ):
        errors.add("package_size", "must be greater than 0")
    if _check_number(spec.included_quantity, "included_quantity", errors):
        if spec.included_quantity < 0:
            errors.add("included_quantity", "must not be negative")
        elif spec.included_quantity > 0 and model is PricingModel.FLAT:
            errors.add("included_quantity", "is not used by the flat model", "not_allowed")
    _check_amount(spec.minimum_commitment, "minimum_commitment", places is not None, spec.currency, errors)
    if model is PricingModel.COST_PLUS and spec.cost_book is not None:
        _check_cost_book(spec.cost_book, "cost_book", errors)
        _check_period(spec, spec.cost_book, errors)
    errors.raise_if_any("The price is invalid")


def _check_period(spec: PriceSpec, book: CostBook, errors: FieldErrors) -> None:
    """A cost-plus price's billing period must be a whole number of its book's periods."""
    if spec.billing_period is None or (
        spec.billing_period == BillingFrequency.TERM and spec.term_months is None
    ):
        # A term's length is known only when the price is quoted for an order's term.
        return
    try:
        period_factor(book.period, spec.billing_period, spec.term_months)
    except ValidationFailed as exc:
        for problem in exc.errors:
            if problem.field != "tier_period":  # the book's own check reports that
                errors.add(problem.field, problem.message, problem.code)


def check_tiers(tiers: Sequence[Tier], prefix: str, errors: FieldErrors) -> None:
    """Record every problem of a tier list under `prefix` (e.g. `tiers.1.up_to`)."""
    if not tiers:
        errors.add(prefix, "at least one tier is required", "required")
        return
    last = len(tiers) - 1
    previous: Decimal | None = None
    for index, tier in enumerate(tiers):
        path = f"{prefix}.{index}"
        up_to = tier.up_to
        if up_to is None:
            if index != last:
                errors.add(f"{path}.up_to", "only the last tier may be open-ended")
        elif index == last:
            errors.add(f"{path}.up_to", "the last tier must be open-ended (no up_to)")
        if up_to is not None and _check_number(up_to, f"{path}.up_to", errors):
            if up_to <= 0:
                errors.add(f"{path}.up_to", "must be greater than 0")
            elif previous is not None and up_to <= previous:
                errors.add(
                    f"{path}.up_to",
                    f"must be greater than the previous tier's up_to ({previous}); "
                    "tiers are sorted strictly ascending and must not overlap",
                )
            previous = up_to if previous is None else max(previous, up_to)
        _check_price(tier.unit_price, f"{path}.unit_price", errors, required=True)
        _check_price(tier.flat_fee, f"{path}.flat_fee", errors, required=True)


def validate_cost_book(book: CostBook) -> None:
    """Raise ValidationFailed listing every problem of a vendor cost book."""
    errors = FieldErrors()
    _check_cost_book(book, "cost_book", errors)
    errors.raise_if_any("The cost book is invalid")


def _check_cost_book(book: CostBook, prefix: str, errors: FieldErrors) -> None:
    check_tiers(book.tiers, f"{prefix}.tiers", errors)
    if book.mode not in ("graduated", "volume"):
        errors.add(f"{prefix}.mode", "must be graduated or volume")
    if book.period not in tuple(TierPeriod):
        errors.add(f"{prefix}.period", "must be monthly, quarterly or annual")
    path = f"{prefix}.markup_percent"
    if _check_number(book.markup_percent, path, errors, required=True) and book.markup_percent < 0:
        errors.add(path, "must not be negative")


def _check_currency(currency: object, errors: FieldErrors) -> int | None:
    if not isinstance(currency, str) or not is_known_currency(currency):
        errors.add("currency", f"{currency!r} is not an active ISO 4217 currency code", "unknown_currency")
        return None
    return minor_units(currency)


def _check_price(value: object, path: str, errors: FieldErrors, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not _check_number(value, path, errors, required=required):
        return
    assert isinstance(value, Decimal | int)
    if value < 0:
        errors.add(path, "must not be negative")
    elif decimal_places(value) > UNIT_PRICE_PLACES:
        errors.add(path, f"must have at most {UNIT_PRICE_PLACES} decimal places")


def _check_amount(value: object, path: str, currency_known: bool, currency: str, errors: FieldErrors) -> None:
    """An amount of money in the price's currency: not negative, within its minor units."""
    if value is None or not _check_number(value, path, errors):
        return
    assert isinstance(value, Decimal | int)
    if value < 0:
        errors.add(path, "must not be negative")
    elif currency_known and (problem := minor_units_problem(value, currency)) is not None:
        errors.add(path, problem, "too_many_decimals")


def _check_number(value: object, path: str, errors: FieldErrors, *, required: bool = True) -> bool:
    """True when `value` is a finite Decimal or int; otherwise record why not."""
    if value is None:
        if required:
            errors.add(path, "is required", "required")
        return False
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        kind = "a float" if isinstance(value, float) else type(value).__name__
        errors.add(path, f"must be a decimal number, not {kind}")
        return False
    if isinstance(value, Decimal) and not value.is_finite():
        errors.add(path, "must be a finite number")
        return False
    return True
