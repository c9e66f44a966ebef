"""What every mapper returns, and the tiers both prices and cost books publish."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from libs.contracts.catalog import TierTerms
from libs.contracts.envelope import EventPayload
from libs.platform.money import decimal_out, unit_price_out
from libs.pricing import Tier


class Outgoing(NamedTuple):
    """A contract payload and the key that orders it on its topic."""

    payload: EventPayload
    key: str


def tier_terms(tiers: Iterable[Tier]) -> list[TierTerms]:
    """Tiers as the contracts carry them (exact decimals in their shortest form)."""
    return [
        TierTerms(
            up_to=decimal_out(t.up_to),
            unit_price=unit_price_out(t.unit_price),
            flat_fee=decimal_out(t.flat_fee),
        )
        for t in tiers
    ]
