"""Hypothesis strategies for prices and quantities."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from libs.pricing import Tier

prices = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False)
quantities = st.decimals(min_value=0, max_value=10**15, places=3, allow_nan=False, allow_infinity=False)
currencies = st.sampled_from(["USD", "JPY", "BHD", "EUR", "KWD", "CLF"])


@st.composite
def tier_lists(draw: st.DrawFn, *, with_fees: bool = False) -> tuple[Tier, ...]:
    """Valid tiers: strictly ascending inclusive up_to values, the last one open."""
    bounds = sorted(
        draw(
            st.sets(
                st.decimals(min_value="0.5", max_value=10**9, places=2, allow_nan=False),
                max_size=5,
            )
        )
    )
    fees = prices if with_fees else st.just(Decimal(0))
    ups: list[Decimal | None] = [*bounds, None]
    return tuple(Tier(up, draw(prices), draw(fees)) for up in ups)
