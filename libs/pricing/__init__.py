"""The single pure pricing engine: tiers, packages, cost-plus, discounts and proration.

Stdlib, `libs.platform.money` and the shared vocabulary (`libs.contracts.vocabulary`: pricing
models, charge types, tier modes and periods) only, so every service's `domain/` can use it.
"""

from libs.pricing.discounts import (
    Discount,
    DiscountKind,
    DiscountLine,
    DiscountResult,
    apply_discounts,
    effective_percent_off,
    needs_approval,
)
from libs.pricing.engine import (
    Charge,
    TierLine,
    apply_minimum,
    cost_plus_unit_price,
    rate,
    vendor_cost,
    vendor_period_cost,
)
from libs.pricing.model import CostBook, PriceSpec, PriceTerms, Tier
from libs.pricing.periods import billing_months, period_factor
from libs.pricing.proration import change_proration, prorate, prorate_amount
from libs.pricing.validation import validate_cost_book, validate_price_spec

__all__ = [
    "Charge",
    "CostBook",
    "Discount",
    "DiscountKind",
    "DiscountLine",
    "DiscountResult",
    "PriceSpec",
    "PriceTerms",
    "Tier",
    "TierLine",
    "apply_discounts",
    "apply_minimum",
    "billing_months",
    "change_proration",
    "cost_plus_unit_price",
    "effective_percent_off",
    "needs_approval",
    "period_factor",
    "prorate",
    "prorate_amount",
    "rate",
    "validate_cost_book",
    "validate_price_spec",
    "vendor_cost",
    "vendor_period_cost",
]
