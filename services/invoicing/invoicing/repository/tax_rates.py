"""Tax rates in SQL: `tax_rates` rows <-> `TaxRate`."""

from __future__ import annotations

import zlib
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import or_, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.tax import TaxRate, TaxRateKey, region_key
from invoicing.handlers.tax_rates import TaxRateRepository
from invoicing.models.tax_rates import TaxRateRow
from libs.platform.pagination import Page, PageRequest, paginate


def tax_rate_of(row: TaxRateRow) -> TaxRate:
    """The rate of a row."""
    return TaxRate(
        id=row.id,
        country=row.country,
        region=row.region,
        tax_code=row.tax_code,
        rate=row.rate,
        name=row.name,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _columns(rate: TaxRate) -> dict[str, Any]:
    return {
        "id": rate.id,
        "country": rate.country,
        "region": rate.region,
        "region_key": region_key(rate.region),
        "tax_code": rate.tax_code,
        "rate": rate.rate,
        "name": rate.name,
        "effective_from": rate.effective_from,
        "effective_to": rate.effective_to,
        "created_at": rate.created_at,
        "updated_at": rate.updated_at,
    }


def _in_force_on(day: date) -> Any:
    return (col(TaxRateRow.effective_from) <= day) & or_(
        col(TaxRateRow.effective_to).is_(None), col(TaxRateRow.effective_to) > day
    )


class SqlTaxRateRepository(TaxRateRepository):
    """Tax rates over the `tax_rates` table; rows loaded in a unit of work are updated in place."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rows: dict[str, TaxRateRow] = {}

    async def add(self, rate: TaxRate) -> None:
        """Stage the rate (a loaded row takes the new values; only its end and update time change)."""
        values = _columns(rate)
        row = self.rows.get(rate.id)
        if row is None:
            row = TaxRateRow(**values)
            self.session.add(row)
            self.rows[rate.id] = row
            return
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)

    async def find(self, rate_id: str) -> TaxRate | None:
        """The rate with this id, if any."""
        row = self.rows.get(rate_id) or (await self.session.get(TaxRateRow, rate_id))
        return self._load(row) if row is not None else None

    async def of_key(self, key: TaxRateKey) -> list[TaxRate]:
        """Every rate of this key, once the key is locked: a transaction advisory lock on
        PostgreSQL; SQLite's writers are serialised already (BEGIN IMMEDIATE)."""
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            lock = zlib.crc32(f"tax_rate|{key.country}|{key.region}|{key.tax_code}".encode())
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
        stmt = select(TaxRateRow).where(
            col(TaxRateRow.country) == key.country,
            col(TaxRateRow.region_key).is_not_distinct_from(key.region),
            col(TaxRateRow.tax_code).is_not_distinct_from(key.tax_code),
        )
        return [self._load(row) for row in (await self.session.exec(stmt)).all()]

    async def in_force(self, countries: Collection[str], on: date) -> list[TaxRate]:
        """Every rate of these countries in force on `on`, in one query."""
        stmt = select(TaxRateRow).where(col(TaxRateRow.country).in_(sorted(countries)), _in_force_on(on))
        return [self._load(row) for row in (await self.session.exec(stmt)).all()]

    async def page(
        self,
        page: PageRequest,
        *,
        country: str | None,
        region: str | None,
        tax_code: str | None,
        as_of: date | None,
    ) -> Page[TaxRate]:
        """A page of rates ordered by id."""
        stmt = select(TaxRateRow)
        if country is not None:
            stmt = stmt.where(col(TaxRateRow.country) == country)
        if region is not None:
            stmt = stmt.where(col(TaxRateRow.region_key) == region)
        if tax_code is not None:
            stmt = stmt.where(col(TaxRateRow.tax_code) == tax_code)
        if as_of is not None:
            stmt = stmt.where(_in_force_on(as_of))
        return await paginate(self.session, stmt, TaxRateRow.id, page, self._load)

    def _load(self, row: TaxRateRow) -> TaxRate:
        self.rows[row.id] = row
        return tax_rate_of(row)
