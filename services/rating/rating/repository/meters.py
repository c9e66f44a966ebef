"""Meters in SQL: `meters` rows <-> `Meter`."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate
from rating.domain.meters import Aggregation, Meter, MeterFilter
from rating.handlers.meters import MeterRepository
from rating.models import Meter as MeterRow


def filter_json(meter_filter: MeterFilter | None) -> str | None:
    """A filter as stored: {property: sorted values}."""
    return json.dumps({k: sorted(v) for k, v in meter_filter.items()}) if meter_filter else None


def filter_from(text: str | None) -> MeterFilter | None:
    """A filter from its stored form."""
    return {k: frozenset(v) for k, v in json.loads(text).items()} if text else None


def meter_of(row: MeterRow) -> Meter:
    """The meter of a row."""
    return Meter(
        id=row.id,
        code=row.code,
        name=row.name,
        unit_of_measure=row.unit_of_measure,
        aggregation=Aggregation(row.aggregation),
        property=row.property,
        filter=filter_from(row.filter),
        product_id=row.product_id,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _columns(meter: Meter) -> dict[str, Any]:
    return {
        "id": meter.id,
        "code": meter.code,
        "name": meter.name,
        "unit_of_measure": meter.unit_of_measure,
        "aggregation": meter.aggregation.value,
        "property": meter.property,
        "filter": filter_json(meter.filter),
        "product_id": meter.product_id,
        "active": meter.active,
        "created_at": meter.created_at,
        "updated_at": meter.updated_at,
    }


class SqlMeterRepository(MeterRepository):
    """Meters over the `meters` table; rows loaded in a unit of work are updated in place."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rows: dict[str, MeterRow] = {}
        self.by_code: dict[str, Meter] = {}

    async def add(self, meter: Meter) -> None:
        """Stage the meter; a new one is written at once so that a taken code is a 409, not a 500."""
        values = _columns(meter)
        row = self.rows.get(meter.id)
        if row is not None:
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            return
        row = MeterRow(**values)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            raise Conflict(f"a meter with code {meter.code!r} already exists") from None
        self.rows[meter.id] = row

    async def find(self, meter_id: str) -> Meter | None:
        """The meter with this id, if any."""
        row = self.rows.get(meter_id) or (await self.session.get(MeterRow, meter_id))
        return self._load(row) if row is not None else None

    async def by_codes(self, codes: Collection[str]) -> dict[str, Meter]:
        """The meters of these codes, by code (one query, then remembered for the unit of work)."""
        found = {code: self.by_code[code] for code in codes if code in self.by_code}
        missing = [code for code in set(codes) if code not in found]
        if missing:
            rows = (await self.session.exec(select(MeterRow).where(col(MeterRow.code).in_(missing)))).all()
            for row in rows:
                found[row.code] = self.by_code[row.code] = self._load(row)
        return found

    async def page(self, page: PageRequest, *, active: bool | None, product_id: str | None) -> Page[Meter]:
        """A page of meters ordered by id."""
        stmt = select(MeterRow)
        if active is not None:
            stmt = stmt.where(col(MeterRow.active) == active)
        if product_id is not None:
            stmt = stmt.where(col(MeterRow.product_id) == product_id)
        return await paginate(self.session, stmt, MeterRow.id, page, self._load)

    def _load(self, row: MeterRow) -> Meter:
        self.rows[row.id] = row
        return meter_of(row)
