"""The pure rules of prepaid balances, on plain values: which grant is drawn first, what rolls
over at a period end, when a threshold is crossed, what an unused quantity is worth.

`rating.domain.balances` builds the balance on them; both are tested with plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from libs.contracts.balances import BalanceKind, RolloverPolicy
from libs.contracts.balances import BalanceTransactionKind as Kind
from libs.platform.errors import ValidationFailed
from libs.platform.money import round_money
from libs.platform.periods import monthly_period_containing

ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)
DEFAULT_THRESHOLDS: Final = (Decimal(80), Decimal(100))
MAX_THRESHOLDS: Final = 10
GRANT_KINDS: Final = frozenset({Kind.GRANT, Kind.TOP_UP, Kind.ROLLOVER_IN})
NEVER: Final = date.max

IdFactory = Callable[[], str]
"""Makes the id of a new transaction."""


@dataclass(frozen=True)
class Rollover:
    """What happens to unused units at a period end: none, all, or up to `limit` carry over."""

    policy: RolloverPolicy = RolloverPolicy.ALL
    limit: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.policy is RolloverPolicy.UP_TO) != (self.limit is not None):
            raise ValidationFailed.single(
                "rollover.up_to",
                "give up_to with the up_to policy, and only with it",
                "rollover_limit",
            )
        if self.limit is not None and self.limit < 0:
            raise ValidationFailed.single("rollover.up_to", "must not be negative")

    def split(self, unused: Decimal) -> tuple[Decimal, Decimal]:
        """`unused` split into (carried into the next period, expired)."""
        if self.policy is RolloverPolicy.NONE:
            return ZERO, unused
        if self.policy is RolloverPolicy.ALL:
            return unused, ZERO
        assert self.limit is not None
        carried = min(unused, self.limit)
        return carried, unused - carried


def checked_thresholds(percents: Iterable[Decimal]) -> tuple[Decimal, ...]:
    """Threshold percents sorted, each above 0 and at most 100, no repeats (else 422)."""
    values = tuple(percents)
    if len(values) > MAX_THRESHOLDS:
        raise ValidationFailed.single("thresholds", f"at most {MAX_THRESHOLDS} thresholds")
    for index, value in enumerate(values):
        if not ZERO < value <= HUNDRED:
            raise ValidationFailed.single(f"thresholds.{index}", "must be above 0 and at most 100")
    if len(set(values)) != len(values):
        raise ValidationFailed.single("thresholds", "each threshold once")
    return tuple(sorted(values))


def crossed_thresholds(
    base: Decimal,
    used_before: Decimal,
    used_after: Decimal,
    thresholds: Sequence[Decimal],
    already: Iterable[Decimal] = (),
) -> list[Decimal]:
    """The thresholds (percents of `base`) that `used_after` reaches and `used_before` did not.

    A threshold already reported in this cycle (`already`) is not reported again; with no base
    (nothing granted in the cycle) nothing is crossed.
    """
    if base <= 0:
        return []
    done = set(already)
    return [
        t for t in thresholds if t not in done and used_before * HUNDRED < t * base <= used_after * HUNDRED
    ]


def used_percent(base: Decimal, used: Decimal) -> Decimal:
    """Share of a cycle's base used, in percent (0 when there is no base), at most 100."""
    if base <= 0:
        return ZERO
    return min(HUNDRED, used * HUNDRED / base)


def refund_value(kind: BalanceKind, quantity: Decimal, unit_price: Decimal | None, currency: str) -> Decimal:
    """What an unused quantity is worth: money refunds itself; units times the price paid, rounded once."""
    if kind is BalanceKind.MONEY:
        return round_money(quantity, currency)
    return round_money(quantity * (unit_price or ZERO), currency)


def next_period_end(period_start: date, bill_cycle_day: int) -> date:
    """Exclusive end of the monthly period (on the bill-cycle day) that contains `period_start`."""
    return monthly_period_containing(period_start, bill_cycle_day).end


@dataclass
class Grant:
    """An open lot of a balance: granted quantity, what is still open, price paid and expiry."""

    id: str
    balance_id: str
    kind: Kind
    quantity: Decimal
    open_quantity: Decimal
    unit_price: Decimal | None
    expires_on: date | None
    granted_on: date
    rank: int = 0
    """Drawdown order between balances: 0 for the subscription's own, 1 for the account's."""

    def expired_on(self, on: date) -> bool:
        """True when the grant can no longer be used on `on` (its expiry is on or before it)."""
        return self.expires_on is not None and self.expires_on <= on

    def usable_on(self, on: date) -> bool:
        """True when something of it is open and it has not expired on `on`."""
        return self.open_quantity > 0 and not self.expired_on(on)


def drawdown_order(grants: Iterable[Grant], on: date) -> list[Grant]:
    """The grants usable on `on`, in the order they are drawn.

    The subscription's own balances first, then the account's (`rank`); within them the grant
    that expires first (no expiry last), then the oldest (ids sort by creation).
    """
    usable = [g for g in grants if g.usable_on(on)]
    return sorted(usable, key=lambda g: (g.rank, g.expires_on or NEVER, g.id))


def allocate(grants: Sequence[Grant], wanted: Decimal) -> list[tuple[Grant, Decimal]]:
    """Take up to `wanted` from `grants` in their order: (grant, quantity taken) for each touched."""
    taken: list[tuple[Grant, Decimal]] = []
    left = wanted
    for grant in grants:
        if left <= 0:
            break
        take = min(left, grant.open_quantity)
        if take > 0:
            taken.append((grant, take))
            left -= take
    return taken
