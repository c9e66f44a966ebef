"""The port of the invoicing service's handlers: a unit of work holding one repository per concept.

Handlers see only `InvoicingUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`invoicing.repository.unit_of_work`); unit tests give
handlers an in-memory fake (`tests/invoicing/unit/fakes.py`). Each concept adds its repository
here as an attribute typed by its port (an abstract class in `invoicing/handlers/<concept>.py`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from invoicing.handlers.bill_runs_port import BillRunRepository
from libs.platform.unit_of_work_port import UnitOfWorkPort


class InvoicingUnitOfWork(UnitOfWorkPort):
    """One transaction of an invoicing use case: its repositories, audit records and events."""

    bill_runs: BillRunRepository

    @abc.abstractmethod
    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A nested transaction: what is done inside is undone alone when the block raises."""

    @abc.abstractmethod
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit of work's transaction has committed (never if it does not)."""

    def stage_recorded_events(self) -> None:
        """Nothing: invoicing's handlers emit their events themselves before committing."""
