"""Rated usage -> `usage.rated` (libs.contracts.usage.UsageRated), keyed by the account."""

from __future__ import annotations

from libs.contracts.usage import RatedTier, UsageRated
from libs.platform.money import amount_out, decimal_out, unit_price_out
from libs.pricing import TierLine
from rating.domain.rated_usage import RatedUsage


def rated_tier(line: TierLine) -> RatedTier:
    """One band of the breakdown as it travels (unrounded)."""
    return RatedTier(
        band_from=decimal_out(line.band_from),
        band_to=decimal_out(line.band_to),
        quantity=decimal_out(line.quantity),
        unit_price=unit_price_out(line.unit_price),
        flat_fee=unit_price_out(line.flat_fee),
        amount=decimal_out(line.amount),
    )


def usage_rated(rated: RatedUsage) -> UsageRated:
    """The `usage.rated` event of a rated period: what invoicing bills, and its lineage."""
    currency = rated.currency
    return UsageRated(
        rated_usage_id=rated.id,
        subscription_id=rated.subscription_id,
        account_id=rated.account_id,
        product_id=rated.product_id,
        meter=rated.meter,
        unit_of_measure=rated.unit_of_measure,
        period_start=rated.period_start,
        period_end=rated.period_end,
        quantity=decimal_out(rated.quantity),
        event_count=rated.event_count,
        late_quantity=decimal_out(rated.late_quantity),
        included_quantity=decimal_out(rated.included_quantity),
        prepaid_quantity=decimal_out(rated.prepaid_quantity),
        billable_quantity=decimal_out(rated.billable_quantity),
        currency=currency,
        price_id=rated.price_id,
        price_version=rated.price_version,
        pricing_model=rated.pricing_model,
        tiers=[rated_tier(line) for line in rated.tiers],
        charge_amount=amount_out(rated.charge_amount, currency),
        minimum_shortfall=amount_out(rated.minimum_shortfall, currency),
        prepaid_amount=amount_out(rated.prepaid_amount, currency),
        amount=amount_out(rated.amount, currency),
        rated_at=rated.rated_at,
    )
