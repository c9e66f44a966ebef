"""Stored notices: worked after the acknowledgement, from storage; listed; the review queue.

Receiving them (verify, store, acknowledge — in groups) is `overage.handlers.webhook_calls`.

`work_notice` runs later, in the background worker (`work_waiting_notices`, a periodic job of the
service; a transaction per chunk of notices, a savepoint per notice): it finds the tenant's
mapping and the vendor's cost book (a notice missing either waits in the review queue, reason
given, until someone maps it and reprocesses), adds the notice to the tenant's open case (opening
one when the tenant is over its licenses), flags a licensed count that differs from our
subscription's quantity, closes a case whose removal the notice shows done, and publishes the re-
bill of every charged notice.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from libs.platform.pagination import Page, PageRequest
from overage.domain import cases as rules
from overage.domain.cases import CaseStep
from overage.domain.notices import NoticeStatus, OverageNotice, ReviewReason
from overage.domain.rebills import case_notice
from overage.events.cases import case_changed, rebill_requested
from overage.schemas.notices import (
    NoticePublic,
    RejectionPublic,
    ReprocessResult,
)

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork

log = get_logger("overage.notices")
UnitsOfWork = Callable[[], "OverageUnitOfWork"]
Pace = Callable[[float], Awaitable[None]]
NoticeBatches = Callable[[], AbstractAsyncContextManager["OverageUnitOfWork"]]
"""A unit of work spanning one transaction for a chunk of notices: its `commit` only flushes (the
chunk commits when the block ends); `savepoint` sets one notice's work apart."""


WORKER = "overage.worker"


async def _review(uow: OverageUnitOfWork, notice: OverageNotice, reason: ReviewReason) -> NoticeStatus:
    await uow.notices.save(notice.with_status(NoticeStatus.REVIEW, reason))
    await uow.commit()
    return NoticeStatus.REVIEW


async def work_notice(*, uow: OverageUnitOfWork, notice_id: str) -> NoticeStatus:
    """Work one stored notice (see the module); its status after. An applied notice changes nothing."""
    notice = await uow.notices.get(notice_id)
    if notice is None:
        raise NotFound("notice", notice_id)
    if notice.status is NoticeStatus.APPLIED:
        return notice.status
    tenant = await uow.vendors.find_tenant(notice.vendor_id, notice.tenant_ref)
    if tenant is None:
        return await _review(uow, notice, ReviewReason.UNKNOWN_TENANT)
    vendor = await uow.vendors.get(notice.vendor_id)
    book = None if vendor is None else await uow.read_model.cost_book(vendor.cost_book_id)
    if book is None:
        return await _review(uow, notice, ReviewReason.UNKNOWN_COST_BOOK)
    now = uow.clock.now()
    case = await uow.cases.open_case_of(notice.vendor_id, notice.tenant_ref)
    if case is None and not notice.over_licenses:
        await uow.notices.save(notice.with_status(NoticeStatus.APPLIED, None))
        await uow.commit()
        return NoticeStatus.APPLIED
    opened = case is None
    if case is None:
        case = rules.open_case(
            case_id=new_id("ovc"),
            vendor_id=notice.vendor_id,
            tenant_ref=notice.tenant_ref,
            account_id=tenant.account_id,
            subscription_id=tenant.subscription_id,
            at=now,
        )
        if not await uow.cases.add(case):
            raise ValidationFailed.single(
                "tenant", "another worker opened the tenant's case; worked again later"
            )
        await uow.cases.add_step(CaseStep(case.id, "opened", case.state, WORKER, now))
    subscription = await uow.read_model.subscription(tenant.subscription_id)
    priced = case_notice(
        notice,
        case_id=case.id,
        our_licensed_quantity=None if subscription is None else subscription.quantity,
        markup_percent=book.markup_percent,
        currency=book.currency,
    )
    await uow.cases.add_notice(priced)
    updated = rules.after_notice(
        case, within_licenses=notice.within_licenses(), actual_count=notice.actual_count, at=now
    )
    if priced.licensed_mismatch:
        updated = rules.flag_licensed_mismatch(updated)
    await uow.cases.save(updated)
    await uow.cases.add_step(
        CaseStep(case.id, "notice_added", updated.state, WORKER, now, f"notice {notice.notice_ref}")
    )
    if priced.charge_key is not None:
        uow.emit(rebill_requested(updated, priced, on=now.date()), key=case.account_id)
    change = "opened" if opened else ("closed_by_notice" if not updated.is_open else "notice_added")
    uow.emit(case_changed(updated, change=change, actor=WORKER, at=now), key=case.account_id)
    await uow.notices.save(notice.with_status(NoticeStatus.APPLIED, None, case_id=case.id))
    uow.audit(
        "overage_notice.applied",
        "overage_case",
        case.id,
        {"notice_id": notice.id, "amount": str(priced.amount)},
    )
    await uow.commit()
    return NoticeStatus.APPLIED


async def work_waiting_notices(*, batches: NoticeBatches, chunk: int = 10, pace: Pace | None = None) -> int:
    """Work every received notice, `chunk` of them per transaction, each in a savepoint of its own
    (one that fails is undone alone and tried again on the next run); how many were worked.

    A chunk's transaction, not one per notice: the commit and the transaction's set-up cost more
    than working a notice. It stays short (the webhook's writer waits behind it on SQLite). After
    each chunk `pace` gets how long it took (and may wait: the acknowledgements come first).
    """
    worked = 0
    while True:
        started = time.perf_counter()
        # The look-up shares the chunk's transaction: on SQLite every transaction takes the write
        # lock, and one taken outside the write turn would send the webhook's writer to sleep in
        # SQLite's busy handler.
        async with batches() as uow:
            waiting = [n.id for n in await uow.notices.waiting(chunk)]
            for notice_id in waiting:
                try:
                    async with uow.savepoint():
                        await work_notice(uow=uow, notice_id=notice_id)
                    worked += 1
                except Exception as exc:  # one bad notice must not stop the others; it is tried again
                    log.warning("overage.notice_failed", notice_id=notice_id, error=str(exc)[:200])
        if len(waiting) < chunk:
            return worked
        if pace is not None:
            await pace(time.perf_counter() - started)


async def reprocess_review(*, uow: OverageUnitOfWork, limit: int = 500) -> ReprocessResult:
    """Work the notices in the review queue again (after a tenant or cost book was mapped).

    One unit of work, committed once per notice (a request with an Idempotency-Key keeps them
    all in its one transaction).
    """
    found = await uow.notices.page(PageRequest(limit=limit), status=NoticeStatus.REVIEW, vendor_id=None)
    applied = still = 0
    for notice in found.data:
        status = await work_notice(uow=uow, notice_id=notice.id)
        applied += status is NoticeStatus.APPLIED
        still += status is NoticeStatus.REVIEW
    return ReprocessResult(applied=applied, still_in_review=still)


def notice_public(notice: OverageNotice) -> NoticePublic:
    """The view of a stored notice."""
    return NoticePublic(
        id=notice.id,
        vendor_id=notice.vendor_id,
        notice_id=notice.notice_ref,
        tenant_id=notice.tenant_ref,
        period_start=notice.period_start,
        licensed_count=notice.licensed_count,
        actual_user_count=notice.actual_count,
        overage_count=notice.overage_count,
        vendor_unit_cost=notice.vendor_unit_cost,
        received_at=notice.received_at,
        status=notice.status.value,
        review_reason=None if notice.review_reason is None else notice.review_reason.value,
        case_id=notice.case_id,
    )


async def list_notices(
    *, uow: OverageUnitOfWork, page: PageRequest, status: NoticeStatus | None, vendor_id: str | None
) -> Page[NoticePublic]:
    """A page of stored notices."""
    found = await uow.notices.page(page, status=status, vendor_id=vendor_id)
    return Page[NoticePublic](
        data=[notice_public(n) for n in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


async def list_rejections(*, uow: OverageUnitOfWork, page: PageRequest) -> Page[RejectionPublic]:
    """A page of refused webhook calls."""
    found = await uow.notices.rejections_page(page)
    return Page[RejectionPublic](
        data=[
            RejectionPublic(
                **{k: v for k, v in r.__dict__.items() if k != "last_seen_at"},
                first_seen_at=r.received_at,
                last_seen_at=r.last_seen_at or r.received_at,
            )
            for r in found.data
        ],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )
