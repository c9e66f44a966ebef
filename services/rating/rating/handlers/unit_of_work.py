"""The port of the rating service's handlers: a unit of work holding one repository per concept.

Handlers see only `RatingUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`rating.repository.unit_of_work`); unit tests give
handlers an in-memory fake. Each concept adds its repository here as an attribute typed by
its port (an abstract class in `rating/handlers/<concept>.py` or here).
"""

from __future__ import annotations

from libs.platform.unit_of_work_port import UnitOfWorkPort
from rating.handlers.meters import MeterRepository
from rating.handlers.usage import UsageRepository


class RatingUnitOfWork(UnitOfWorkPort):
    """One transaction of a rating use case: its repositories, audit records and events."""

    meters: MeterRepository
    usage: UsageRepository
