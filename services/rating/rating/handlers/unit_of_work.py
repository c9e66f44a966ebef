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
from rating.handlers.meters import MeterRepository
from rating.handlers.prepaid import NO_PREPAID, PrepaidBalances
from rating.handlers.price_cache import PriceCache
from rating.handlers.prices import PriceReadModel
from rating.handlers.rated_usage import RatedUsageRepository
from rating.handlers.subscriptions import SubscriptionReadModel
from rating.handlers.usage import UsageRepository


class RatingUnitOfWork(UnitOfWorkPort):
    """One transaction of a rating use case: its repositories, audit records and events."""

    # Read model, rating and period close (issue 8).
    subscriptions: SubscriptionReadModel
    prices: PriceReadModel
    rated_usage: RatedUsageRepository
    price_cache: PriceCache
    """The process's cache of meters and prices (a private one unless the runtime shares its own)."""
    prepaid: PrepaidBalances = NO_PREPAID
    """Prepaid balances the close draws from and checks report (none unless wired in)."""

    @abc.abstractmethod
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit of work's transaction has committed (never if it does not)."""

    # Usage ingestion (issue 8).
    meters: MeterRepository
    usage: UsageRepository
