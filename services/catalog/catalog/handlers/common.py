"""Helpers every catalog handler shares: audit + event + commit, PATCH diffs, pages, versions and tiers."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from catalog.domain.versions import (
    VersionWindow,
    next_window,
    version_in_force,
)
from catalog.handlers.unit_of_work import VERSIONED, CatalogUnitOfWork, entity_name
from catalog.models import (
    CostBookVersion,
    PriceVersion,
)
from catalog.schemas.common import TierIn, TierPublic
from libs.contracts.catalog import (
    TierTerms,
)
from libs.contracts.envelope import EventPayload
from libs.platform.db import utcnow
from libs.platform.errors import FieldErrors
from libs.platform.pagination import Page, PageRequest
from libs.pricing import Tier

R = TypeVar("R")
V = TypeVar("V", PriceVersion, CostBookVersion)
T = TypeVar("T")


def public_page(rows: Page[R], to_public: Callable[[R], T]) -> Page[T]:
    """A page of rows as their public views."""
    return Page[T](
        data=[to_public(r) for r in rows.data], next_cursor=rows.next_cursor, has_more=rows.has_more
    )


def today() -> date:
    return utcnow().date()


def plain(value: Decimal) -> Decimal:
    """The shortest exact form of a decimal (12.00 → 12), as the database gives it back."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def plain_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else plain(value)


def set_fields(row: Any, changes: dict[str, Any], *, nullable: Sequence[str] = ()) -> dict[str, Any]:
    """Apply a PATCH to a row; returns {field: {"before", "after"}} for the audit log."""
    errors = FieldErrors()
    for name, value in changes.items():
        if value is None and name not in nullable:
            errors.add(name, "may not be null; leave it out to keep the current value")
    errors.raise_if_any("The update is invalid")
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        before = getattr(row, name)
        if before != value:
            diff[name] = {"before": before, "after": value}
            setattr(row, name, value)
    return diff


async def record_change(
    uow: CatalogUnitOfWork,
    action: str,
    entity_type: str,
    entity_id: str,
    changes: dict[str, Any],
    event: EventPayload,
    *,
    key: str,
) -> None:
    """Audit a change, emit its event and commit it with the rows already staged."""
    uow.audit(f"{entity_type}.{action}", entity_type, entity_id, changes)
    uow.emit(event, key=key)
    await uow.commit()


async def record_created(
    uow: CatalogUnitOfWork, row: Any, entity_type: str, public: BaseModel, event: EventPayload
) -> None:
    """Stage a new row with its audit record (the public view) and its event, and commit."""
    uow.catalog.add(row)
    await record_change(
        uow, "created", entity_type, row.id, public.model_dump(mode="json"), event, key=row.id
    )


async def record_update(
    uow: CatalogUnitOfWork,
    row: Any,
    changes: dict[str, Any],
    *,
    entity_type: str,
    changed: Callable[[Any, str], EventPayload],
    nullable: Sequence[str] = (),
    check: Callable[[Any], None] | None = None,
) -> None:
    """Apply a PATCH, check the result, and commit it with its audit diff and event if anything changed."""
    diff = set_fields(row, changes, nullable=nullable)
    if check is not None:
        check(row)
    if diff:
        row.updated_at = utcnow()
        uow.catalog.add(row)
        await record_change(uow, "updated", entity_type, row.id, diff, changed(row, "updated"), key=row.id)


# --- effective-dated versions (prices, cost books) ----------------------------------------------


async def next_version(
    uow: CatalogUnitOfWork, model: type[V], owner_id: str, effective_from: date, effective_to: date | None
) -> tuple[Any, V, VersionWindow]:
    """The price or cost book, its latest version and the window of the version to publish next."""
    owner = await uow.catalog.get(VERSIONED[model][0], owner_id)
    latest = (await uow.catalog.versions(model, owner_id))[-1]
    return owner, latest, next_window(latest, effective_from, effective_to)


def supersede(uow: CatalogUnitOfWork, owner: Any, latest: V, version: V) -> None:
    """Stage a new latest version; the one before ends where it starts."""
    # The one change a published version ever gets: its end, set by its successor.
    latest.effective_to = version.effective_from
    owner.latest_version = version.version
    uow.catalog.add(owner, latest, version)


async def version_as_of(
    uow: CatalogUnitOfWork, model: type[V], owner_id: str, as_of: date | None
) -> tuple[V, int]:
    """The version in force on `as_of` (404 if none) or the latest one, and the latest version number."""
    owner_model = VERSIONED[model][0]
    owner: Any = await uow.catalog.get(owner_model, owner_id)
    versions = await uow.catalog.versions(model, owner_id)
    if as_of is None:
        return versions[-1], owner.latest_version
    row = version_in_force(versions, as_of, entity=entity_name(owner_model), entity_id=owner_id)
    return row, owner.latest_version


async def versions_page(
    uow: CatalogUnitOfWork, model: type[V], owner_id: str, page: PageRequest
) -> tuple[Page[V], int]:
    """A page of one price's or cost book's versions, oldest first, and the latest version number."""
    owner_model, owner_column = VERSIONED[model]
    owner: Any = await uow.catalog.get(owner_model, owner_id)
    return await uow.catalog.page(model, page, **{owner_column: owner_id}), owner.latest_version


# --- tiers as stored (JSON text with decimal strings) ------------------------------------------


def tiers_json(tiers: Sequence[TierIn]) -> str:
    return json.dumps(
        [
            {
                "up_to": None if t.up_to is None else format(plain(t.up_to), "f"),
                "unit_price": format(plain(t.unit_price), "f"),
                "flat_fee": format(plain(t.flat_fee), "f"),
            }
            for t in tiers
        ]
    )


def tiers_of(text: str) -> tuple[Tier, ...]:
    return tuple(
        Tier(
            None if t["up_to"] is None else Decimal(t["up_to"]),
            Decimal(t["unit_price"]),
            Decimal(t["flat_fee"]),
        )
        for t in json.loads(text)
    )


def tier_models(tiers: Sequence[TierIn]) -> tuple[Tier, ...]:
    return tuple(Tier(t.up_to, t.unit_price, t.flat_fee) for t in tiers)


def tiers_public(text: str) -> list[TierPublic]:
    return [TierPublic(up_to=t.up_to, unit_price=t.unit_price, flat_fee=t.flat_fee) for t in tiers_of(text)]


def tier_terms(text: str) -> list[TierTerms]:
    return [TierTerms(up_to=t.up_to, unit_price=t.unit_price, flat_fee=t.flat_fee) for t in tiers_of(text)]
