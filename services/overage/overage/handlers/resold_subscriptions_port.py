"""The port of the payables read model (SQL: `overage.repository.resold_subscriptions`)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from overage.domain.resold_subscriptions import (
    CostBookVersion,
    PriceVersion,
    ResoldProduct,
    ResoldSubscription,
)


class ResaleReadModel(abc.ABC):
    """Products, price versions, cost book versions and subscriptions, each as of its latest event."""

    @abc.abstractmethod
    async def apply_product(self, product: ResoldProduct) -> bool:
        """Keep a product unless a later event is kept already; True when it changed."""

    @abc.abstractmethod
    async def apply_price(self, price: PriceVersion) -> None:
        """Keep a price version (a version is published once; a redelivery changes nothing)."""

    @abc.abstractmethod
    async def apply_cost_book(self, book: CostBookVersion) -> None:
        """Keep a cost book version (likewise)."""

    @abc.abstractmethod
    async def apply_subscription(self, subscription: ResoldSubscription) -> bool:
        """Keep a subscription unless a later event is kept already; True when it changed."""

    @abc.abstractmethod
    async def subscription(self, subscription_id: str) -> ResoldSubscription | None:
        """A subscription, if known."""

    @abc.abstractmethod
    async def product(self, product_id: str) -> ResoldProduct | None:
        """A product, if known."""

    @abc.abstractmethod
    async def price(self, price_id: str, version: int) -> PriceVersion | None:
        """A price version, if known."""

    @abc.abstractmethod
    async def cost_book_versions(self, cost_book_id: str) -> list[CostBookVersion]:
        """Every known version of a cost book."""

    @abc.abstractmethod
    async def vendor_cost_books(self, vendor_id: str) -> list[CostBookVersion]:
        """Every known version of every cost book of a vendor."""

    @abc.abstractmethod
    async def uncommitted_subscriptions(
        self,
        *,
        product_ids: Sequence[str] = (),
        price_ids: Sequence[str] = (),
        subscription_ids: Sequence[str] = (),
    ) -> list[ResoldSubscription]:
        """Active subscriptions of these products, prices or ids that have no vendor commitment yet."""

    @abc.abstractmethod
    async def products_of_vendor(self, vendor_id: str) -> list[str]:
        """Ids of the products a vendor supplies."""

    @abc.abstractmethod
    async def prices_of_cost_book(self, cost_book_id: str) -> list[str]:
        """Ids of the prices that are cost-plus on a cost book."""
