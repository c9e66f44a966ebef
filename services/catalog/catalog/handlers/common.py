"""What every catalog handler shares: audit + commit, pages of views, the business date, version look-ups."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from catalog.domain.common import Aggregate
from catalog.domain.versions import EffectiveDated, version_in_force
from catalog.handlers.unit_of_work import CatalogUnitOfWork, VersionedRepository
from libs.platform.clock import UTC_ZONE
from libs.platform.pagination import Page

R = TypeVar("R")
T = TypeVar("T")
V = TypeVar("V", bound=EffectiveDated)


def public_page(items: Page[R], to_public: Callable[[R], T]) -> Page[T]:
    """A page of domain objects as their public views."""
    return Page[T](
        data=[to_public(r) for r in items.data], next_cursor=items.next_cursor, has_more=items.has_more
    )


def catalog_date(uow: CatalogUnitOfWork) -> date:
    """The default business date of a request that names none: today in UTC, by the uow's clock.

    The catalog has no accounts, so no account time zone (DESIGN §6): a price list's effective
    dates and a quote's `as_of` are one calendar for every buyer, kept in UTC. A caller pricing
    for an account names the account's date (provisioning quotes as of its account's today).
    """
    return uow.business_date(UTC_ZONE)


async def commit_change(
    uow: CatalogUnitOfWork, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]
) -> None:
    """Audit a change and commit it with what is staged (its recorded events go to the outbox)."""
    uow.audit(f"{entity_type}.{action}", entity_type, entity_id, _jsonable(changes))
    await uow.commit()


async def commit_created(
    uow: CatalogUnitOfWork, entity_type: str, entity: Aggregate, public: BaseModel
) -> None:
    """Audit a new entity (its public view) and commit it."""
    await commit_change(uow, "created", entity_type, entity.id, public.model_dump(mode="json"))


async def commit_updated(
    uow: CatalogUnitOfWork, entity_type: str, entity: Aggregate, diff: dict[str, Any]
) -> None:
    """Audit and commit a PATCH's diff, if it changed anything."""
    if diff:
        await commit_change(uow, "updated", entity_type, entity.id, diff)


async def version_as_of(
    repository: VersionedRepository[Any, V], owner_id: str, as_of: date | None
) -> tuple[V, int]:
    """The version in force on `as_of` (404 if none) or the latest one, and the latest version number."""
    owner = await repository.get(owner_id)
    versions = await repository.versions(owner_id)
    if as_of is None:
        return versions[-1], owner.latest_version
    version = version_in_force(versions, as_of, entity=repository.entity, entity_id=owner_id)
    return version, owner.latest_version


def _jsonable(value: Any) -> Any:
    # Audit diffs hold domain values; show them as their API does (enums by value, lists, objects).
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
