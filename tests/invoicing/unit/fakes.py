"""The in-memory invoicing unit of work of every unit test: one `FakeInvoicingUnitOfWork` holding
a fake of each repository of the port, on an `InvoicingStore` that holds what the database would.

Units of work on one store see one world. Each concept adds its fake repository to the store and
binds it in `FakeInvoicingUnitOfWork.__init__`, answering as its SQL counterpart does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from libs.platform.clock import Clock, FixedClock
from tests.invoicing.unit.fakes_invoices import FakeInvoiceRepository, InvoiceTables
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

DEFAULT_NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)


@dataclass
class InvoicingStore:
    """Everything the invoicing database would hold, for the fakes."""

    invoices: InvoiceTables = field(default_factory=InvoiceTables)


class FakeInvoicingUnitOfWork(FakeUnitOfWorkBase, InvoicingUnitOfWork):
    """A unit of work on an `InvoicingStore` (a new one unless given); committed events in `envelopes`."""

    producer = "invoicing"

    def __init__(
        self, store: InvoicingStore | None = None, *, clock: Clock | None = None, actor: str = "test"
    ) -> None:
        self.start_fake(actor, clock or FixedClock(DEFAULT_NOW))
        self.store = store if store is not None else InvoicingStore()
        self.invoices: FakeInvoiceRepository = FakeInvoiceRepository(self.store.invoices)

    async def commit(self) -> None:
        """Write the staged rows, then keep the staged events and audit records."""
        self.invoices.commit()
        await super().commit()

    def drop_uncommitted(self) -> None:
        """A unit of work left without committing changes nothing."""
        self.invoices.rollback()


def units_of_work(
    store: InvoicingStore, **kwargs: object
) -> tuple[Callable[[], FakeInvoicingUnitOfWork], list[FakeInvoicingUnitOfWork]]:
    """A factory of units of work on `store` and the list of those it made (their events)."""
    made: list[FakeInvoicingUnitOfWork] = []

    def factory() -> FakeInvoicingUnitOfWork:
        uow = FakeInvoicingUnitOfWork(store, **kwargs)  # type: ignore[arg-type]
        made.append(uow)
        return uow

    return factory, made
