"""Price terms, contract templates, discounts and bundles: what each kind needs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from catalog.domain.bundles import BundleComponent, expand, validate_components
from catalog.domain.contract_templates import (
    ContractKind,
    ContractTerms,
    ExpiryOption,
    validate_contract_terms,
)
from catalog.domain.discounts import validate_discount
from catalog.domain.prices import PriceTerms, check_charge_schedule, validate_price_terms
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, PricingModel, TierMode
from libs.platform.errors import ValidationFailed
from libs.pricing import CostBook, DiscountKind, Tier
from tests.catalog.unit.factories import D, discount

BOOK = CostBook((Tier(D(100), D("12.00")), Tier(None, D("10.00"))), TierMode.VOLUME, D(20))


def _fields(error: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in error.value.errors]


@pytest.mark.parametrize(
    ("kind", "period", "hours", "expiry", "fields"),
    [
        (ContractKind.SUBSCRIPTION, 12, None, ExpiryOption.IGNORE, []),
        (ContractKind.SUBSCRIPTION, None, None, ExpiryOption.IGNORE, ["period_months"]),
        (ContractKind.SUBSCRIPTION, 12, D(10), ExpiryOption.IGNORE, ["hours"]),
        (ContractKind.SUBSCRIPTION, 12, None, ExpiryOption.ROLLOVER, ["on_expiry"]),
        (ContractKind.TIME_LIMITED, 12, D(40), ExpiryOption.ROLLOVER, []),
        (ContractKind.TIME_LIMITED, 12, None, ExpiryOption.IGNORE, ["hours"]),
        (ContractKind.TIME_LIMITED, None, D(40), ExpiryOption.IGNORE, ["period_months"]),
        (ContractKind.SUPPORT_HOURS, None, D(40), ExpiryOption.ROLLOVER, []),
        (ContractKind.SUPPORT_HOURS, None, D(0), ExpiryOption.IGNORE, ["hours"]),
        (ContractKind.PER_INCIDENT, None, None, ExpiryOption.IGNORE, []),
        (ContractKind.PER_INCIDENT, 1, D(1), ExpiryOption.IGNORE, ["period_months", "hours"]),
    ],
)
def test_contract_template_bounds_per_kind(
    kind: ContractKind, period: int | None, hours: Decimal | None, expiry: ExpiryOption, fields: list[str]
) -> None:
    terms = ContractTerms(kind, period, hours, expiry)
    if not fields:
        validate_contract_terms(terms)
        return
    with pytest.raises(ValidationFailed) as refused:
        validate_contract_terms(terms)
    assert _fields(refused) == fields


def test_charge_schedule() -> None:
    check_charge_schedule(ChargeType.RECURRING, BillingFrequency.ANNUAL, BillingTiming.IN_ADVANCE)
    check_charge_schedule(ChargeType.ONE_TIME, None, BillingTiming.IN_ADVANCE)
    with pytest.raises(ValidationFailed) as refused:
        check_charge_schedule(ChargeType.USAGE, None, BillingTiming.IN_ADVANCE)
    assert _fields(refused) == ["billing_period", "timing"]


def test_cost_plus_terms_need_a_book_in_the_price_currency() -> None:
    terms = PriceTerms(PricingModel.COST_PLUS, cost_book_id="cb_1")
    validate_price_terms(terms, "USD", BOOK, "USD")
    with pytest.raises(ValidationFailed) as refused:
        validate_price_terms(terms, "USD", BOOK, "EUR")
    assert _fields(refused) == ["cost_book_id"]
    with pytest.raises(ValidationFailed) as misplaced:
        validate_price_terms(
            PriceTerms(PricingModel.PER_UNIT, unit_price=D(1), cost_book_id="cb_1"), "USD", None, None
        )
    assert _fields(misplaced) == ["cost_book_id"]


def test_discount_kinds() -> None:
    validate_discount(discount("100"))
    validate_discount(discount("500", DiscountKind.AMOUNT, currency="JPY"))
    with pytest.raises(ValidationFailed) as refused:
        validate_discount(
            discount("10", currency="USD", valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1))
        )
    assert _fields(refused) == ["currency", "valid_to"]
    with pytest.raises(ValidationFailed) as yen:
        validate_discount(discount("0.5", DiscountKind.AMOUNT, currency="JPY"))
    assert _fields(yen) == ["value"]


def test_discount_applies_to_listed_products_within_its_dates() -> None:
    limited = discount(product_ids=("prod_a",), valid_from=date(2026, 1, 1), valid_to=date(2026, 4, 1))
    assert limited.applies_to("prod_a") and not limited.applies_to("prod_b")
    assert discount().applies_to("prod_anything")
    assert limited.is_valid_on(date(2026, 3, 31))
    assert not limited.is_valid_on(date(2026, 4, 1))
    assert not discount(active=False).is_valid_on(date(2026, 3, 1))


def test_bundle_components() -> None:
    parts = [BundleComponent("prod_platform", D(1)), BundleComponent("prod_assessment", D(2))]
    validate_components(parts)
    assert expand(parts, D(12)) == [
        BundleComponent("prod_platform", D(12)),
        BundleComponent("prod_assessment", D(24)),
    ]
    with pytest.raises(ValidationFailed) as refused:
        validate_components([])
    assert _fields(refused) == ["components"]
