"""The port of the rating service's handlers: a unit of work holding one repository per concept.

Handlers see only `RatingUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`rating.repository.unit_of_work`); unit tests give
handlers an in-memory fake. Each concept adds its repository here as an attribute typed by
its port (an abstract class in `rating/handlers/<concept>.py` or here).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from libs.platform.unit_of_work_port import UnitOfWorkPort
from rating.handlers.balances_port import BalanceRepository
from rating.handlers.entitlements import EntitlementReads, SubscriptionMemory
from rating.handlers.meters import MeterRepository
from rating.handlers.prepaid import NO_PREPAID, PrepaidBalances
from rating.handlers.price_cache import PriceCache
from rating.handlers.prices import PriceReadModel
from rating.handlers.rated_usage import RatedUsageRepository
from rating.handlers.subscriptions import SubscriptionReadModel
from rating.handlers.support_contracts import SupportContractRepository
from rating.handlers.support_requests import SupportRequestRepository
from rating.handlers.usage import UsageRepository
from rating.handlers.usage_aggregates import AggregateMemory
from rating.handlers.usage_guides import GuideMemory
from rating.handlers.usage_loads_port import UsageLoadRepository


class RatingUnitOfWork(UnitOfWorkPort):
    """One transaction of a rating use case: its repositories, audit records and events."""

    # Meters and usage ingestion.
    meters: MeterRepository
    usage: UsageRepository
    aggregate_memory: AggregateMemory = AggregateMemory()
    """The aggregates this process's batches wrote (a private one unless the runtime shares its
    own; unused by a repository without aggregate generations)."""
    guide_memory: GuideMemory = GuideMemory()
    """The process's usage guide per read-model generation (a private one unless the runtime shares its own;
    this default is never kept in: a repository without generations guides each batch afresh)."""

    # Read model, rating and period close (issue 8).
    subscriptions: SubscriptionReadModel
    prices: PriceReadModel
    rated_usage: RatedUsageRepository
    price_cache: PriceCache
    """The process's cache of meters and prices (a private one unless the runtime shares its own)."""
    prepaid: PrepaidBalances = NO_PREPAID
    """Prepaid balances the close draws from and checks report (none unless wired in)."""

    # Entitlement checks.
    entitlement_reads: EntitlementReads
    check_memory: SubscriptionMemory = SubscriptionMemory()
    """The subscriptions checks were asked about, per read-model generation (a private one unless the
    runtime shares its own; this default keeps nothing from a repository without generations)."""

    @abc.abstractmethod
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit of work's transaction has committed (never if it does not)."""

    # Support contracts (seed 004).
    support_contracts: SupportContractRepository
    support_requests: SupportRequestRepository

    # Prepaid balances and their transactions (`rating.handlers.balances`).
    balances: BalanceRepository
    # Mediation files (usage loads).
    usage_loads: UsageLoadRepository
