"""In-memory adapters for the catalog's handlers: a fake repository and unit of work (no database)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlmodel import SQLModel

from catalog.domain.versions import is_in_force
from catalog.handlers.unit_of_work import VERSIONED, CatalogRepository, owner_of
from catalog.models import CostBookVersion, Discount, PriceVersion
from libs.contracts.envelope import Envelope, EventPayload
from libs.platform.outbox import build_envelope
from libs.platform.pagination import Page, PageRequest, encode_cursor

M = TypeVar("M", bound=SQLModel)
V = TypeVar("V", PriceVersion, CostBookVersion)


class FakeCatalogRepository(CatalogRepository):
    """Rows kept in dicts by table and id; same answers as the SQL repository."""

    def __init__(self, rows: Iterable[SQLModel] = ()) -> None:
        self.tables: dict[type[SQLModel], dict[str, Any]] = {}
        self.add(*rows)

    def add(self, *rows: SQLModel) -> None:
        for row in rows:
            self.tables.setdefault(type(row), {})[row.id] = row  # type: ignore[attr-defined]

    def rows(self, model: type[M]) -> list[M]:
        """Every row of `model`, by id."""
        return sorted(self.tables.get(model, {}).values(), key=lambda r: r.id)

    async def find_many(self, model: type[M], ids: Collection[str]) -> dict[str, M]:
        table = self.tables.get(model, {})
        return {i: table[i] for i in ids if i in table}

    async def discounts_by_promo_code(self, codes: Collection[str]) -> dict[str, Discount]:
        return {
            d.promo_code: d for d in self.rows(Discount) if d.promo_code is not None and d.promo_code in codes
        }

    async def exists(self, model: type[SQLModel], **equal: Any) -> bool:
        return any(_matches(row, equal) for row in self.rows(model))

    async def versions(self, model: type[V], owner_id: str) -> list[V]:
        return sorted((v for v in self.rows(model) if owner_of(v) == owner_id), key=lambda v: v.version)

    async def versions_in_force(
        self, model: type[V], owner_ids: Collection[str], as_of: date
    ) -> dict[str, V]:
        found: dict[str, V] = {}
        for version in sorted(self.rows(model), key=lambda v: v.version):
            if owner_of(version) in owner_ids and is_in_force(version, as_of):
                found.setdefault(owner_of(version), version)
        return found

    async def product_prices_in_force(
        self, product_ids: Collection[str], currency: str, as_of: date
    ) -> dict[str, PriceVersion]:
        found: dict[str, PriceVersion] = {}
        for version in sorted(self.rows(PriceVersion), key=lambda v: (v.price_id, v.version)):
            if (
                version.product_id in product_ids
                and version.currency == currency
                and is_in_force(version, as_of)
            ):
                found.setdefault(version.product_id, version)
        return found

    async def page(self, model: type[M], page: PageRequest, **equal: Any) -> Page[M]:
        rows = [row for row in self.rows(model) if _matches(row, equal)]
        return _page(rows, lambda r: r.id, page)  # type: ignore[attr-defined]

    async def latest_versions_page(self, model: type[V], page: PageRequest, **equal: Any) -> Page[V]:
        owners = self.tables.get(VERSIONED[model][0], {})
        latest = [
            v
            for v in self.rows(model)
            if owner_of(v) in owners
            and owners[owner_of(v)].latest_version == v.version
            and _matches(v, equal)
        ]
        return _page(sorted(latest, key=owner_of), owner_of, page)


def _matches(row: Any, equal: dict[str, Any]) -> bool:
    return all(getattr(row, name) == value for name, value in equal.items() if value is not None)


def _page(rows: list[M], key: Callable[[M], str], page: PageRequest) -> Page[M]:
    after = [row for row in rows if page.after is None or key(row) > page.after]
    data = after[: page.limit]
    has_more = len(after) > page.limit
    return Page[M](
        data=data, next_cursor=encode_cursor(key(data[-1])) if has_more else None, has_more=has_more
    )


@dataclass(frozen=True)
class AuditEntry:
    """An audit record a handler staged."""

    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]


class FakeCatalogUnitOfWork:
    """A unit of work on the fake repository: audit records and events count once committed."""

    def __init__(self, repository: FakeCatalogRepository | None = None, *, actor: str = "key:test") -> None:
        self.catalog = repository or FakeCatalogRepository()
        self.actor = actor
        self.commits = 0
        self.audits: list[AuditEntry] = []
        self.envelopes: list[Envelope] = []
        self._staged_audits: list[AuditEntry] = []
        self._staged_envelopes: list[Envelope] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._staged_audits, self._staged_envelopes = [], []

    def audit(self, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        self._staged_audits.append(AuditEntry(action, entity_type, entity_id, changes))

    def emit(self, payload: EventPayload, *, key: str, causation_id: str | None = None) -> Envelope:
        envelope = build_envelope(payload, producer="catalog", key=key, causation_id=causation_id)
        self._staged_envelopes.append(envelope)
        return envelope

    async def commit(self) -> None:
        self.commits += 1
        self.audits += self._staged_audits
        self.envelopes += self._staged_envelopes
        self._staged_audits, self._staged_envelopes = [], []

    @property
    def event_types(self) -> list[str]:
        """Types of the committed events, oldest first."""
        return [envelope.type for envelope in self.envelopes]
