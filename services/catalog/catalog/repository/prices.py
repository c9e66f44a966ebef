"""Prices in SQL: `prices` and `price_versions` rows <-> `Price` and `PriceVersion`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlmodel import col, select

from catalog.domain.prices import Price, PriceTerms, PriceVersion
from catalog.handlers.unit_of_work import PriceRepository
from catalog.models import Price as PriceRow
from catalog.models import PriceVersion as PriceVersionRow
from catalog.repository.common import SqlVersionedRepository, in_force, tiers_json, tiers_of
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, PricingModel
from libs.platform.pagination import Page, PageRequest


class SqlPriceRepository(SqlVersionedRepository[Price, PriceVersion], PriceRepository):
    """Prices over the `prices` and `price_versions` tables."""

    model = PriceRow
    version_model = PriceVersionRow
    owner_column = "price_id"

    def to_domain(self, row: PriceRow) -> Price:
        """The price of a row."""
        return Price(row.id, row.product_id, row.currency, row.latest_version, row.created_at)

    def to_row(self, price: Price) -> dict[str, Any]:
        """The columns of a price."""
        return {
            "id": price.id,
            "product_id": price.product_id,
            "currency": price.currency,
            "latest_version": price.latest_version,
            "created_at": price.created_at,
        }

    def version_to_domain(self, row: PriceVersionRow) -> PriceVersion:
        """The price version of a row."""
        return PriceVersion(
            id=row.id,
            price_id=row.price_id,
            version=row.version,
            product_id=row.product_id,
            currency=row.currency,
            charge_type=ChargeType(row.charge_type),
            billing_period=None if row.billing_period is None else BillingFrequency(row.billing_period),
            timing=BillingTiming(row.timing),
            terms=PriceTerms(
                model=PricingModel(row.model),
                unit_price=row.unit_price,
                amount=row.amount,
                tiers=tiers_of(row.tiers),
                package_size=row.package_size,
                included_quantity=row.included_quantity,
                minimum_commitment=row.minimum_commitment,
                cost_book_id=row.cost_book_id,
            ),
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            published_at=row.published_at,
            published_by=row.published_by,
        )

    def version_to_row(self, version: PriceVersion) -> dict[str, Any]:
        """The columns of a price version."""
        terms = version.terms
        return {
            "id": version.id,
            "price_id": version.price_id,
            "version": version.version,
            "product_id": version.product_id,
            "currency": version.currency,
            "charge_type": version.charge_type.value,
            "billing_period": None if version.billing_period is None else version.billing_period.value,
            "timing": version.timing.value,
            "model": terms.model.value,
            "unit_price": terms.unit_price,
            "amount": terms.amount,
            "tiers": tiers_json(terms.tiers),
            "package_size": terms.package_size,
            "included_quantity": terms.included_quantity,
            "minimum_commitment": terms.minimum_commitment,
            "cost_book_id": terms.cost_book_id,
            "effective_from": version.effective_from,
            "effective_to": version.effective_to,
            "published_at": version.published_at,
            "published_by": version.published_by,
        }

    async def product_prices_in_force(
        self, product_ids: Collection[str], currency: str, as_of: date
    ) -> dict[str, PriceVersion]:
        """For each product, the version in force on `as_of` of its first price (by id) in `currency`."""
        if not product_ids:
            return {}
        stmt = (
            select(PriceVersionRow)
            .where(
                col(PriceVersionRow.product_id).in_(set(product_ids)),
                col(PriceVersionRow.currency) == currency,
                in_force(PriceVersionRow, as_of),
            )
            .order_by(col(PriceVersionRow.price_id), col(PriceVersionRow.version))
        )
        return self._first_by(await self._exec(stmt), "product_id")

    async def latest_page(
        self, page: PageRequest, *, product_id: str | None, currency: str | None
    ) -> Page[PriceVersion]:
        """A page of the latest version of every price, ordered by price id."""
        return await self._latest_page(page, product_id=product_id, currency=currency)
