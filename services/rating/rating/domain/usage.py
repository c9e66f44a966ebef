"""Usage: guiding an event to its subscription and billing period, and folding events into a quantity.

Rules (DESIGN §6 "Time", §7 "Periods and anchors", "Late usage"; docs/rating.md "Ingestion"):
- an event falls on its account's local date (the account's IANA time zone);
- it counts on the subscription it names, or on the account's subscription to the meter's
  product whose term covers that date; with neither it is `unmatched` (the review queue);
- its billing period is the subscription's period containing that date: monthly on the
  account's bill-cycle day, quarterly and annual anchored on the term start, a term-billed
  subscription's one period is its term;
- when that period of that subscription and meter is already rated, the event goes to the next
  open period and is flagged `late`;
- a meter's events make one quantity per period by the meter's aggregation (`fold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from libs.contracts.vocabulary import BillingFrequency
from libs.platform.errors import FieldError
from libs.platform.periods import BillingPeriod, time_zone
from rating.domain.meters import Aggregation
from rating.domain.subscriptions import billing_period_containing

EARLIEST_USAGE: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Usage before this instant is refused: no subscription of this engine is that old, and far-past
timestamps would overflow the calendar in some time zones."""

MAX_LATE_PERIODS: Final = 120
"""How many rated periods in a row a late event may skip to find an open one (ten years monthly)."""


class UsageStatus(StrEnum):
    """What became of an accepted event."""

    COUNTED = "counted"
    """Counted in the period it fell in."""
    LATE = "late"
    """Its period was already rated: counted in the next open period, flagged late."""
    UNMATCHED = "unmatched"
    """No subscription found (yet): kept in the review queue, counted once reprocessed."""
    FILTERED = "filtered"
    """Its properties do not pass the meter's filter: kept, never counted."""


COUNTING: Final = frozenset({UsageStatus.COUNTED, UsageStatus.LATE})
"""Statuses whose events are in an aggregate."""


class UsageSource(StrEnum):
    """Which door an event came through."""

    REST = "rest"
    TOPIC = "topic"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class AccountTerms:
    """What guiding needs of an account: its time zone and bill-cycle day."""

    account_id: str
    time_zone: str
    bill_cycle_day: int


@dataclass(frozen=True, slots=True)
class SubscriptionTerms:
    """What guiding needs of a subscription: its account, product, term and billing frequency."""

    subscription_id: str
    account_id: str
    product_id: str
    billing_period: BillingFrequency | None
    state: str
    term_start: date
    term_end: date
    effective_date: date

    @property
    def ends(self) -> date:
        """The first day it no longer covers: its term end, or its cancellation date if earlier."""
        if self.state == "cancelled":
            return min(self.term_end, self.effective_date)
        return self.term_end

    def covers(self, day: date) -> bool:
        """Tell whether usage on `day` (account-local) falls within the subscription's term."""
        return self.term_start <= day < self.ends

    def period_containing(self, day: date, account: AccountTerms) -> BillingPeriod:
        """The billing period holding `day` (`rating.domain.subscriptions.billing_period_containing`)."""
        return billing_period_containing(
            day,
            billing_period=self.billing_period,
            term_start=self.term_start,
            term_end=self.term_end,
            bill_cycle_day=account.bill_cycle_day,
        )


def choose_subscription(candidates: Sequence[SubscriptionTerms], day: date) -> SubscriptionTerms | None:
    """The subscription among `candidates` (one account, one product) whose term covers `day`.

    Several may (a renewal, a replacement): the one that started last, then the smallest id, so
    the choice is the same on every replay.
    """
    best: SubscriptionTerms | None = None
    for candidate in candidates:
        if not candidate.covers(day):
            continue
        if best is None or (candidate.term_start, best.subscription_id) > (
            best.term_start,
            candidate.subscription_id,
        ):
            best = candidate
    return best


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an event counts: its subscription and account, local date and period — or why not."""

    status: UsageStatus
    subscription_id: str | None
    account_id: str | None
    usage_date: date | None = None
    period: BillingPeriod | None = None
    reason: str | None = None
    """Why an event is unmatched (the review queue shows it)."""


class UsageGuide:
    """Guides events to subscriptions and periods from the read model loaded for one batch.

    Holds the batch's look-ups and caches (time zones, periods per subscription and day), so
    that guiding ten thousand events costs ten thousand dictionary look-ups, not queries.
    """

    def __init__(
        self,
        *,
        subscriptions: Mapping[str, SubscriptionTerms],
        accounts: Mapping[str, AccountTerms],
        account_subscriptions: Iterable[SubscriptionTerms] = (),
    ) -> None:
        self.subscriptions: dict[str, SubscriptionTerms | None] = dict(subscriptions)
        """By id; None for an id looked up and not found (a guide kept across batches knows it)."""
        self.accounts: dict[str, AccountTerms | None] = dict(accounts)
        self.by_account_product: dict[tuple[str, str], list[SubscriptionTerms]] = {}
        for terms in account_subscriptions:
            self.by_account_product.setdefault((terms.account_id, terms.product_id), []).append(terms)
        self.seen: dict[str, SubscriptionTerms] = {}
        """Every subscription an event was guided to so far, by id."""
        self._zones: dict[str, ZoneInfo] = {}
        self._periods: dict[tuple[str, date], BillingPeriod] = {}
        self._placements: dict[tuple[str, str, date], Placement] = {}

    def learn(
        self,
        *,
        subscriptions: Mapping[str, SubscriptionTerms],
        accounts: Mapping[str, AccountTerms],
        account_subscriptions: Iterable[SubscriptionTerms] = (),
        asked_subscriptions: Iterable[str] = (),
        asked_accounts: Iterable[str] = (),
        asked_account_products: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Add read-model rows loaded for a batch; the ids and pairs asked for and not found are
        remembered as absent (a guide kept per read-model generation never asks for them again)."""
        for subscription_id in asked_subscriptions:
            self.subscriptions.setdefault(subscription_id, None)
        self.subscriptions.update(subscriptions)
        for account_id in asked_accounts:
            self.accounts.setdefault(account_id, None)
        self.accounts.update(accounts)
        for pair in asked_account_products:
            self.by_account_product.setdefault(pair, [])
        for terms in account_subscriptions:
            candidates = self.by_account_product.setdefault((terms.account_id, terms.product_id), [])
            if terms not in candidates:
                candidates.append(terms)

    def known_pair(self, account_id: str, product_id: str) -> bool:
        """Tell whether the subscriptions of this account to this product are loaded."""
        return (account_id, product_id) in self.by_account_product

    @property
    def remembered(self) -> int:
        """How many placements and periods it keeps (a long-lived guide is dropped past a bound)."""
        return len(self._placements) + len(self._periods)

    def place(
        self,
        *,
        subscription_id: str | None,
        account_id: str | None,
        product_id: str,
        occurred_at: datetime,
    ) -> Placement:
        """Where an event at `occurred_at` for this subscription or account and product counts.

        Placements are shared by the events of one subscription (or account and product) and
        local date: only the local date is worked out per event.
        """
        if subscription_id is not None:
            terms = self.subscriptions.get(subscription_id)
            if terms is None:
                return Placement(
                    UsageStatus.UNMATCHED, subscription_id, account_id, reason="unknown subscription"
                )
            account = self.accounts.get(terms.account_id)
            if account is None:
                return Placement(
                    UsageStatus.UNMATCHED, subscription_id, terms.account_id, reason="unknown account"
                )
            day = self.local_date(occurred_at, account)
            key: tuple[str, str, date] = (subscription_id, "", day)
            found = self._placements.get(key)
            if found is None:
                found = self._placements[key] = self._on_subscription(terms, account, day)
            return found
        assert account_id is not None  # a usage record names one or the other
        account = self.accounts.get(account_id)
        if account is None:
            return Placement(UsageStatus.UNMATCHED, None, account_id, reason="unknown account")
        day = self.local_date(occurred_at, account)
        key = (account_id, product_id, day)
        found = self._placements.get(key)
        if found is None:
            found = self._placements[key] = self._on_account(account, product_id, day)
        return found

    def _on_subscription(self, terms: SubscriptionTerms, account: AccountTerms, day: date) -> Placement:
        if not terms.covers(day):
            return Placement(
                UsageStatus.UNMATCHED,
                terms.subscription_id,
                terms.account_id,
                reason=f"{day.isoformat()} is outside the subscription's term",
            )
        return self._counted(terms, account, day)

    def _on_account(self, account: AccountTerms, product_id: str, day: date) -> Placement:
        chosen = choose_subscription(self.by_account_product.get((account.account_id, product_id), ()), day)
        if chosen is None:
            return Placement(
                UsageStatus.UNMATCHED,
                None,
                account.account_id,
                reason=f"no subscription of the account to product {product_id} on {day.isoformat()}",
            )
        return self._counted(chosen, account, day)

    def local_date(self, occurred_at: datetime, account: AccountTerms) -> date:
        """The account-local date of an aware timestamp."""
        zone = self._zones.get(account.time_zone)
        if zone is None:
            zone = self._zones[account.time_zone] = time_zone(account.time_zone)
        return occurred_at.astimezone(zone).date()

    def period(self, terms: SubscriptionTerms, day: date) -> BillingPeriod:
        """The subscription's billing period holding `day` (cached per subscription and day)."""
        key = (terms.subscription_id, day)
        found = self._periods.get(key)
        if found is None:
            account = self.accounts[terms.account_id]
            assert account is not None  # an event is guided to a subscription only with its account
            found = self._periods[key] = terms.period_containing(day, account)
        return found

    def next_period(self, subscription_id: str, period: BillingPeriod) -> BillingPeriod:
        """The period after `period` of a guided event's subscription."""
        return self.period(self.seen[subscription_id], period.end)

    def _counted(self, terms: SubscriptionTerms, account: AccountTerms, day: date) -> Placement:
        self.seen[terms.subscription_id] = terms
        return Placement(
            UsageStatus.COUNTED, terms.subscription_id, account.account_id, day, self.period(terms, day)
        )


def timestamp_problem(occurred_at: datetime, *, now: datetime, max_future: timedelta) -> FieldError | None:
    """Why a usage timestamp is refused (too far ahead of `now`, or before 2000), or None."""
    if occurred_at > now + max_future:
        minutes = int(max_future.total_seconds() // 60)
        return FieldError(
            "timestamp",
            f"is more than {minutes} minutes ahead of the server's clock ({now.isoformat()})",
            "in_future",
        )
    if occurred_at < EARLIEST_USAGE:
        return FieldError("timestamp", "is before 2000-01-01T00:00:00Z", "out_of_range")
    return None


@dataclass(slots=True)
class AggregateState:
    """A subscription's meter over one period: its running quantity and what made it."""

    quantity: Decimal
    event_count: int
    late_quantity: Decimal
    late_count: int
    latest_at: datetime | None

    @classmethod
    def empty(cls) -> AggregateState:
        """A period with no usage yet."""
        return cls(Decimal(0), 0, Decimal(0), 0, None)


def fold(
    state: AggregateState,
    aggregation: Aggregation,
    events: Iterable[tuple[Decimal, datetime, bool]],
    *,
    new_distinct_values: int = 0,
) -> AggregateState:
    """The state after adding events (quantity, timestamp, late) and the distinct values they brought.

    sum adds quantities, count counts events, max keeps the largest quantity, latest keeps the
    quantity of the latest timestamp (on a tie, the event added last), unique_count adds the
    number of property values the period had not seen (`new_distinct_values`). `late_quantity`
    sums the late events' quantities, whatever the aggregation (informational).
    """
    quantity, count = state.quantity, state.event_count
    late_quantity, late_count, latest_at = state.late_quantity, state.late_count, state.latest_at
    for amount, occurred_at, late in events:
        count += 1
        if aggregation is Aggregation.SUM:
            quantity += amount
        elif aggregation is Aggregation.MAX:
            quantity = max(quantity, amount)
        elif aggregation is Aggregation.LATEST and (latest_at is None or occurred_at >= latest_at):
            quantity = amount
        if latest_at is None or occurred_at > latest_at:
            latest_at = occurred_at
        if late:
            late_count += 1
            late_quantity += amount
    if aggregation is Aggregation.COUNT:
        quantity = Decimal(count)
    elif aggregation is Aggregation.UNIQUE_COUNT:
        quantity += new_distinct_values
    return AggregateState(quantity, count, late_quantity, late_count, latest_at)


AggregateKey = tuple[str, str, date]
"""(subscription id, meter code, period start): one aggregate row."""


@dataclass(slots=True)
class UsageEvent:
    """One accepted usage event and where it counts (its placement changes while it is guided)."""

    event_id: str
    meter: str
    quantity: Decimal
    occurred_at: datetime
    properties: Mapping[str, str | int | bool]
    subscription_id: str | None
    account_id: str | None
    status: UsageStatus = UsageStatus.UNMATCHED
    usage_date: date | None = None
    period: BillingPeriod | None = None
    review_reason: str | None = None
    source: UsageSource = UsageSource.REST
    load_id: str | None = None
    received_at: datetime | None = None
    """When it was stored (None until then)."""

    def place(self, placement: Placement) -> None:
        """Take a guide's placement: counted in a period, or unmatched with a reason."""
        self.status = placement.status
        self.subscription_id = placement.subscription_id
        self.account_id = placement.account_id
        self.usage_date = placement.usage_date
        self.period = placement.period
        self.review_reason = placement.reason

    def move_late(self, period: BillingPeriod) -> None:
        """Count it in the open period `period` because its own was already rated."""
        self.period = period
        self.status = UsageStatus.LATE

    @property
    def key(self) -> AggregateKey:
        """The aggregate it counts in (only for a counted or late event)."""
        assert self.subscription_id is not None and self.period is not None
        return (self.subscription_id, self.meter, self.period.start)
