"""Use cases of meters: create, change, read, list — and the port of their repository."""

from __future__ import annotations

import abc
from collections.abc import Collection
from typing import TYPE_CHECKING

from libs.platform.errors import Conflict, NotFound
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from rating.domain.meters import Meter
from rating.schemas.meters import MeterCreate, MeterPublic, MeterUpdate, filter_of, meter_public

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


class MeterRepository(abc.ABC):
    """Meters, by id and by code."""

    @abc.abstractmethod
    async def add(self, meter: Meter) -> None:
        """Stage a new or changed meter (a code another meter took meanwhile is a Conflict)."""

    @abc.abstractmethod
    async def find(self, meter_id: str) -> Meter | None:
        """The meter with this id, if any."""

    @abc.abstractmethod
    async def by_codes(self, codes: Collection[str]) -> dict[str, Meter]:
        """The meters of these codes, by code (one query; unknown codes are left out)."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, *, active: bool | None, product_id: str | None) -> Page[Meter]:
        """A page of meters ordered by id, optionally only (in)active ones or one product's."""

    async def get(self, meter_id: str) -> Meter:
        """The meter with this id, or NotFound (404)."""
        meter = await self.find(meter_id)
        if meter is None:
            raise NotFound("meter", meter_id)
        return meter


async def create_meter(*, uow: RatingUnitOfWork, command: MeterCreate) -> MeterPublic:
    """Add a meter; its code must be new (409 otherwise)."""
    if await uow.meters.by_codes([command.code]):
        raise Conflict(f"a meter with code {command.code!r} already exists")
    meter = Meter.create(
        id=new_id("mtr"),
        code=command.code,
        name=command.name,
        unit_of_measure=command.unit_of_measure,
        aggregation=command.aggregation,
        property=command.property,
        filter=filter_of(command.filter),
        product_id=command.product_id,
        now=uow.clock.now(),
    )
    await uow.meters.add(meter)
    public = meter_public(meter)
    uow.audit("meter.created", "meter", meter.id, public.model_dump(mode="json"))
    await uow.commit()
    return public


async def update_meter(*, uow: RatingUnitOfWork, meter_id: str, command: MeterUpdate) -> MeterPublic:
    """Change a meter's name, filter or activity."""
    meter = await uow.meters.get(meter_id)
    changes = command.model_dump(exclude_unset=True)
    if "filter" in changes:
        changes["filter"] = filter_of(changes["filter"])
    diff = meter.update(changes, now=uow.clock.now())
    if diff:
        await uow.meters.add(meter)
        uow.audit("meter.updated", "meter", meter.id, diff)
        await uow.commit()
    return meter_public(meter)


async def get_meter(*, uow: RatingUnitOfWork, meter_id: str) -> MeterPublic:
    """One meter."""
    return meter_public(await uow.meters.get(meter_id))


async def list_meters(
    *, uow: RatingUnitOfWork, page: PageRequest, active: bool | None, product_id: str | None
) -> Page[MeterPublic]:
    """A page of meters."""
    found = await uow.meters.page(page, active=active, product_id=product_id)
    return Page[MeterPublic](
        data=[meter_public(m) for m in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )
