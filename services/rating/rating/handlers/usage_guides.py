"""The usage guide a batch places its events with, kept in memory per read-model generation.

Guiding needs each event's subscription and account (time zone, bill-cycle day, term) and,
per subscription and local date, the billing period. Reading those rows for every batch cost
more than half of a batch's time; they change rarely. So a process keeps one `UsageGuide` for
the read model's current generation (a counter the database bumps on any change of accounts or
subscriptions, migration 0010): a batch reads the counter in its own transaction, and when it
is the one the kept guide was loaded at, it only loads the rows the guide has not seen yet
(none in the steady state) — else it starts a new guide. Rows loaded for a batch (and ids found
absent) are remembered in that guide, never in a guide of another generation, so no batch sees
a row older than its counter says.

A repository that cannot tell the generation (the unit-test fake) answers None: each batch
then loads its own guide, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from rating.domain.meters import Meter
from rating.domain.usage import UsageEvent, UsageGuide

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

MAX_REMEMBERED: Final = 500_000
"""Placements and periods a kept guide may hold before it is started afresh (memory stays flat)."""


@dataclass
class GuideMemory:
    """The guide of one read-model generation, shared by a process's batches."""

    generation: int | None = None
    guide: UsageGuide | None = None

    def guide_for(self, generation: int | None) -> UsageGuide:
        """The kept guide when it is of `generation`, else a new one, kept in its place.

        Any other generation replaces the kept guide, an older one too (a transaction that
        bumped the counter and rolled back leaves the counter lower than a guide seen since).
        """
        kept = self.guide
        same = generation is not None and generation == self.generation
        if same and kept is not None and kept.remembered <= MAX_REMEMBERED:
            return kept
        guide = UsageGuide(subscriptions={}, accounts={})
        if generation is not None:
            self.generation, self.guide = generation, guide
        return guide


async def load_guide(
    uow: RatingUnitOfWork, events: Sequence[UsageEvent], meters: Mapping[str, Meter]
) -> tuple[UsageGuide, int | None]:
    """The guide for these events and the read-model generation it is of: the kept one of the
    current generation, completed with the rows it lacks (one query per kind of row, only for
    the ids it has not looked up)."""
    generation = await uow.usage.read_model_generation()
    guide = uow.guide_memory.guide_for(generation)
    named = {e.subscription_id for e in events if e.subscription_id is not None}
    named.difference_update(guide.subscriptions)
    subscriptions = await uow.usage.subscriptions(named) if named else {}
    pairs = {
        (e.account_id, meters[e.meter].product_id)
        for e in events
        if e.subscription_id is None and e.account_id is not None
    }
    pairs = {pair for pair in pairs if not guide.known_pair(*pair)}
    by_account = {account_id for account_id, _ in pairs}
    products = {product_id for _, product_id in pairs}
    candidates = await uow.usage.account_subscriptions(by_account, products) if by_account else []
    account_ids = {e.account_id for e in events if e.subscription_id is None and e.account_id is not None}
    account_ids |= {terms.account_id for terms in subscriptions.values()}
    account_ids.difference_update(guide.accounts)
    accounts = await uow.usage.accounts(account_ids) if account_ids else {}
    guide.learn(
        subscriptions=subscriptions,
        accounts=accounts,
        account_subscriptions=candidates,
        asked_subscriptions=named,
        asked_accounts=account_ids,
        asked_account_products=[(a, p) for a in by_account for p in products],
    )
    return guide, generation
