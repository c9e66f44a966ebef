"""The in-memory overage unit of work of the unit tests: one `FakeOverageUnitOfWork` holding a fake
of each repository of the port, on an `OverageStore` holding what the database would.

The fakes answer as their SQL counterparts do (a vendor notice id stored once, one open case per
tenant); writes land in the store at once (no rollback), which the handlers under test never need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from libs.platform.clock import Clock, FixedClock
from libs.platform.pagination import Page, PageRequest
from overage.domain.cases import CaseState, CaseStep, OverageCase
from overage.domain.notices import NoticeStatus, OverageNotice
from overage.domain.rebills import CaseNotice
from overage.domain.rejections import DEFAULT_REJECTION_POLICY, RejectionPolicy
from overage.domain.vendors import CostBookTerms, LicensedSubscription, Vendor, VendorSecret, VendorTenant
from overage.handlers.cases_port import CaseFilters, CaseRepository
from overage.handlers.notices_port import NoticeRepository, WebhookRejection
from overage.handlers.unit_of_work import OverageUnitOfWork
from overage.handlers.vendors_port import ReadModel, VendorRepository
from tests.support.fake_pages import page_of
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

NOW = datetime(2026, 8, 2, 12, tzinfo=UTC)
T = TypeVar("T")


@dataclass
class OverageStore:
    """Everything the overage database would hold."""

    vendors: dict[str, Vendor] = field(default_factory=dict)
    tenants: dict[str, VendorTenant] = field(default_factory=dict)
    subscriptions: dict[str, LicensedSubscription] = field(default_factory=dict)
    cost_books: dict[str, CostBookTerms] = field(default_factory=dict)
    notices: dict[str, OverageNotice] = field(default_factory=dict)
    rejections: list[WebhookRejection] = field(default_factory=list)
    cases: dict[str, OverageCase] = field(default_factory=dict)
    steps: list[CaseStep] = field(default_factory=list)
    case_notices: dict[str, CaseNotice] = field(default_factory=dict)


class FakeVendors(VendorRepository):
    def __init__(self, store: OverageStore) -> None:
        self.store = store

    async def add(self, vendor: Vendor) -> None:
        self.store.vendors[vendor.id] = vendor

    async def get(self, vendor_id: str) -> Vendor | None:
        return self.store.vendors.get(vendor_id)

    async def page(self, page: PageRequest) -> Page[Vendor]:
        return page_of(list(self.store.vendors.values()), lambda v: v.id, page)

    async def save_secrets(self, secrets: list[VendorSecret]) -> None:
        for secret in secrets:
            vendor = self.store.vendors[secret.vendor_id]
            kept = tuple(s for s in vendor.secrets if s.id != secret.id)
            self.store.vendors[vendor.id] = replace(
                vendor, secrets=tuple(sorted((*kept, secret), key=lambda s: s.id))
            )

    async def add_tenant(self, tenant: VendorTenant) -> bool:
        if await self.find_tenant(tenant.vendor_id, tenant.tenant_ref) is not None:
            return False
        self.store.tenants[tenant.id] = tenant
        return True

    async def get_tenant(self, tenant_id: str) -> VendorTenant | None:
        return self.store.tenants.get(tenant_id)

    async def find_tenant(self, vendor_id: str, tenant_ref: str) -> VendorTenant | None:
        return next(
            (
                t
                for t in self.store.tenants.values()
                if (t.vendor_id, t.tenant_ref) == (vendor_id, tenant_ref)
            ),
            None,
        )

    async def tenants_page(
        self, page: PageRequest, *, vendor_id: str | None, account_id: str | None
    ) -> Page[VendorTenant]:
        found = [
            t
            for t in self.store.tenants.values()
            if vendor_id in (None, t.vendor_id) and account_id in (None, t.account_id)
        ]
        return page_of(found, lambda t: t.id, page)


class FakeReadModel(ReadModel):
    def __init__(self, store: OverageStore) -> None:
        self.store = store

    async def subscription(self, subscription_id: str) -> LicensedSubscription | None:
        return self.store.subscriptions.get(subscription_id)

    async def save_subscription(self, subscription: LicensedSubscription) -> None:
        self.store.subscriptions[subscription.subscription_id] = subscription

    async def cost_book(self, cost_book_id: str) -> CostBookTerms | None:
        return self.store.cost_books.get(cost_book_id)

    async def save_cost_book(self, terms: CostBookTerms) -> None:
        self.store.cost_books[terms.cost_book_id] = terms


class FakeNotices(NoticeRepository):
    def __init__(self, store: OverageStore) -> None:
        self.store = store

    async def add(self, notice: OverageNotice) -> bool:
        if await self.find(notice.vendor_id, notice.notice_ref) is not None:
            return False
        self.store.notices[notice.id] = notice
        return True

    async def add_many(self, notices: Sequence[OverageNotice]) -> None:
        for notice in notices:
            if not await self.add(notice):
                raise ValueError(f"notice {notice.notice_ref} is stored already")

    async def stored_refs(self, vendor_id: str, notice_refs: Sequence[str]) -> dict[str, str]:
        wanted = set(notice_refs)
        return {
            n.notice_ref: n.id
            for n in self.store.notices.values()
            if n.vendor_id == vendor_id and n.notice_ref in wanted
        }

    async def get(self, notice_id: str) -> OverageNotice | None:
        return self.store.notices.get(notice_id)

    async def find(self, vendor_id: str, notice_ref: str) -> OverageNotice | None:
        return next(
            (
                n
                for n in self.store.notices.values()
                if (n.vendor_id, n.notice_ref) == (vendor_id, notice_ref)
            ),
            None,
        )

    async def save(self, notice: OverageNotice) -> None:
        self.store.notices[notice.id] = notice

    async def waiting(self, limit: int) -> list[OverageNotice]:
        return sorted(
            (n for n in self.store.notices.values() if n.status is NoticeStatus.RECEIVED), key=lambda n: n.id
        )[:limit]

    async def page(
        self, page: PageRequest, *, status: NoticeStatus | None, vendor_id: str | None
    ) -> Page[OverageNotice]:
        found = [
            n
            for n in self.store.notices.values()
            if status in (None, n.status) and vendor_id in (None, n.vendor_id)
        ]
        return page_of(found, lambda n: n.id, page)

    async def add_rejection(
        self, rejection: WebhookRejection, policy: RejectionPolicy = DEFAULT_REJECTION_POLICY
    ) -> None:
        self.store.rejections.append(rejection)

    async def rejections_page(self, page: PageRequest) -> Page[WebhookRejection]:
        return page_of(self.store.rejections, lambda r: r.id, page)


class FakeCases(CaseRepository):
    def __init__(self, store: OverageStore) -> None:
        self.store = store

    async def open_case_of(self, vendor_id: str, tenant_ref: str) -> OverageCase | None:
        return next(
            (
                c
                for c in self.store.cases.values()
                if (c.vendor_id, c.tenant_ref) == (vendor_id, tenant_ref) and c.is_open
            ),
            None,
        )

    async def add(self, case: OverageCase) -> bool:
        if await self.open_case_of(case.vendor_id, case.tenant_ref) is not None:
            return False  # the partial unique index
        self.store.cases[case.id] = case
        return True

    async def get(self, case_id: str, *, for_update: bool = False) -> OverageCase | None:
        return self.store.cases.get(case_id)

    async def save(self, case: OverageCase) -> None:
        self.store.cases[case.id] = case

    async def add_step(self, step: CaseStep) -> None:
        self.store.steps.append(step)

    async def steps(self, case_id: str) -> list[CaseStep]:
        return [s for s in self.store.steps if s.case_id == case_id]

    async def add_notice(self, notice: CaseNotice) -> None:
        self.store.case_notices[notice.notice_id] = notice

    async def notices(self, case_id: str) -> list[CaseNotice]:
        found = [n for n in self.store.case_notices.values() if n.case_id == case_id]
        return sorted(found, key=lambda n: (n.period_start, n.notice_id))

    async def page(self, page: PageRequest, filters: CaseFilters) -> Page[OverageCase]:
        def kept(c: OverageCase) -> bool:
            cutoff = filters.overdue_before.get(c.state.value)
            return (
                filters.state in (None, c.state)
                and filters.account_id in (None, c.account_id)
                and (not filters.open_only or c.is_open)
                and (not filters.overdue_before or (cutoff is not None and c.state_entered_at <= cutoff))
            )

        return page_of([c for c in self.store.cases.values() if kept(c)], lambda c: c.id, page)

    async def open_cases(self, after_id: str | None, limit: int) -> list[OverageCase]:
        found = sorted(
            (
                c
                for c in self.store.cases.values()
                if c.state is not CaseState.CLOSED and (after_id is None or c.id > after_id)
            ),
            key=lambda c: c.id,
        )
        return found[:limit]


class FakeOverageUnitOfWork(FakeUnitOfWorkBase, OverageUnitOfWork):
    """A unit of work on an `OverageStore` (a new one unless given); committed events in `envelopes`."""

    producer = "overage"

    def __init__(
        self, store: OverageStore | None = None, *, clock: Clock | None = None, actor: str = "finance:test"
    ) -> None:
        self.start_fake(actor, clock or FixedClock(NOW))
        self.store = store = store if store is not None else OverageStore()
        self.vendors = FakeVendors(store)
        self.read_model = FakeReadModel(store)
        self.notices = FakeNotices(store)
        self.cases = FakeCases(store)

    def stage_recorded_events(self) -> None:
        """Nothing: overage's handlers emit their events themselves before committing."""

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        """The block's events are dropped when it raises (the store's writes are not undone)."""
        emitted = len(self._staged_envelopes)
        try:
            yield self
        except BaseException:
            del self._staged_envelopes[emitted:]
            raise
