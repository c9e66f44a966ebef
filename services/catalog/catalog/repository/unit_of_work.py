"""The catalog's SQL unit of work: the platform's transaction (outbox, audit) + a repository per concept."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.repository.bundles import SqlBundleRepository
from catalog.repository.contract_templates import SqlContractTemplateRepository
from catalog.repository.cost_books import SqlCostBookRepository
from catalog.repository.discounts import SqlDiscountRepository
from catalog.repository.prices import SqlPriceRepository
from catalog.repository.products import SqlProductRepository
from catalog.repository.quotes import SqlQuoteRepository
from libs.platform.errors import Conflict
from libs.platform.unit_of_work import UnitOfWork


class SqlCatalogUnitOfWork(UnitOfWork, CatalogUnitOfWork):
    """The platform unit of work plus the SQL repositories; a unique-key race becomes a 409."""

    def bind_repositories(self) -> None:
        """The SQL repositories of each concept, on this unit of work's session."""
        self.products = SqlProductRepository(self.session)
        self.prices = SqlPriceRepository(self.session)
        self.cost_books = SqlCostBookRepository(self.session)
        self.bundles = SqlBundleRepository(self.session)
        self.discounts = SqlDiscountRepository(self.session)
        self.contract_templates = SqlContractTemplateRepository(self.session)
        self.quotes = SqlQuoteRepository(self.session)

    async def commit(self) -> None:
        """Commit with the recorded events in the outbox; a broken unique key is reported as a conflict."""
        self.stage_recorded_events()
        try:
            await super().commit()
        except IntegrityError:
            await self.rollback()
            raise Conflict(
                "the change conflicts with a concurrent one (a SKU, promo code or version already taken); "
                "read the current state and retry"
            ) from None
