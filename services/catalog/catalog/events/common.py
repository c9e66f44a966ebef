"""What every mapper returns, and the tiers both prices and cost books publish."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from catalog.domain.common import plain, plain_or_none
from libs.contracts.catalog import TierTerms
from libs.contracts.envelope import EventPayload
from libs.pricing import Tier


class Outgoing(NamedTuple):
    """A contract payload and the key that orders it on its topic."""

    payload: EventPayload
    key: str


def tier_terms(tiers: Iterable[Tier]) -> list[TierTerms]:
    """Tiers as the contracts carry them (exact decimals in their shortest form)."""
    return [
        TierTerms(up_to=plain_or_none(t.up_to), unit_price=plain(t.unit_price), flat_fee=plain(t.flat_fee))
        for t in tiers
    ]
