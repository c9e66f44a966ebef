"""Stored notices and refused webhook calls in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.pagination import Page, PageRequest, paginate
from overage.domain.notices import NoticeStatus, OverageNotice, ReviewReason
from overage.domain.rejections import DEFAULT_REJECTION_POLICY, RejectionPolicy
from overage.handlers.notices_port import NoticeRepository, WebhookRejection
from overage.models.notices import NoticeRow, WebhookRejectionRow


def _notice_of(row: NoticeRow) -> OverageNotice:
    return OverageNotice(
        id=row.id,
        vendor_id=row.vendor_id,
        notice_ref=row.notice_ref,
        tenant_ref=row.tenant_ref,
        period_start=row.period_start,
        licensed_count=row.licensed_count,
        actual_count=row.actual_count,
        overage_count=row.overage_count,
        vendor_unit_cost=row.vendor_unit_cost,
        received_at=row.received_at,
        status=NoticeStatus(row.status),
        review_reason=None if row.review_reason is None else ReviewReason(row.review_reason),
        case_id=row.case_id,
    )


def _values_of(notice: OverageNotice) -> dict[str, Any]:
    values = asdict(notice)
    values["status"] = notice.status.value
    values["review_reason"] = None if notice.review_reason is None else notice.review_reason.value
    return values


def _row_of(notice: OverageNotice) -> NoticeRow:
    return NoticeRow(**_values_of(notice))


def _rejection_of(row: WebhookRejectionRow) -> WebhookRejection:
    return WebhookRejection(
        row.id,
        row.vendor,
        row.reason,
        row.status_code,
        row.received_at,
        row.body_bytes,
        row.body_sha256,
        row.detail,
        row.count,
        row.last_seen_at,
    )


class SqlNoticeRepository(NoticeRepository):
    """Notices over `overage_notices`, refusals over `overage_webhook_rejections`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, notice: OverageNotice) -> bool:
        """Insert unless the vendor's notice id is stored (checked, and held by the unique constraint)."""
        if await self.find(notice.vendor_id, notice.notice_ref) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(_row_of(notice))
        except IntegrityError:
            return False
        return True

    async def add_many(self, notices: Sequence[OverageNotice]) -> None:
        """Insert the notices in one statement (executemany); a stored notice id raises IntegrityError."""
        if notices:
            connection = await self.session.connection()
            await connection.execute(insert(NoticeRow), [_values_of(n) for n in notices])

    async def stored_refs(self, vendor_id: str, notice_refs: Sequence[str]) -> dict[str, str]:
        """The vendor's stored notice ids among `notice_refs`, with our ids (one query)."""
        if not notice_refs:
            return {}
        stmt = select(NoticeRow.notice_ref, NoticeRow.id).where(
            col(NoticeRow.vendor_id) == vendor_id, col(NoticeRow.notice_ref).in_(set(notice_refs))
        )
        return dict((await self.session.exec(stmt)).all())

    async def get(self, notice_id: str) -> OverageNotice | None:
        """A notice by our id."""
        row = await self.session.get(NoticeRow, notice_id)
        return None if row is None else _notice_of(row)

    async def find(self, vendor_id: str, notice_ref: str) -> OverageNotice | None:
        """A notice by the vendor's id."""
        stmt = select(NoticeRow).where(
            col(NoticeRow.vendor_id) == vendor_id, col(NoticeRow.notice_ref) == notice_ref
        )
        row = (await self.session.exec(stmt)).first()
        return None if row is None else _notice_of(row)

    async def save(self, notice: OverageNotice) -> None:
        """Replace the notice."""
        await self.session.merge(_row_of(notice))

    async def waiting(self, limit: int) -> list[OverageNotice]:
        """Received notices, oldest first."""
        stmt = (
            select(NoticeRow)
            .where(col(NoticeRow.status) == NoticeStatus.RECEIVED.value)
            .order_by(col(NoticeRow.id))
            .limit(limit)
        )
        return [_notice_of(row) for row in (await self.session.exec(stmt)).all()]

    async def page(
        self, page: PageRequest, *, status: NoticeStatus | None, vendor_id: str | None
    ) -> Page[OverageNotice]:
        """A page of notices by id."""
        stmt = select(NoticeRow)
        if status is not None:
            stmt = stmt.where(col(NoticeRow.status) == status.value)
        if vendor_id is not None:
            stmt = stmt.where(col(NoticeRow.vendor_id) == vendor_id)
        return await paginate(self.session, stmt, NoticeRow.id, page, _notice_of)

    async def add_rejection(
        self, rejection: WebhookRejection, policy: RejectionPolicy = DEFAULT_REJECTION_POLICY
    ) -> None:
        """Count the refusal on an identical record of its window, or on the reason's latest when
        the window has all the records it allows; else insert it (`overage.domain.rejections`)."""
        R = WebhookRejectionRow
        since = policy.window_start(rejection.received_at)
        in_window = (col(R.reason) == rejection.reason) & (col(R.received_at) >= since)
        latest = (col(R.received_at).desc(), col(R.id).desc())
        same = select(R).where(
            in_window,
            col(R.vendor) == rejection.vendor,
            col(R.status_code) == rejection.status_code,
            col(R.body_sha256) == rejection.body_sha256,
        )
        row = (await self.session.exec(same.order_by(*latest).limit(1))).first()
        if row is None:
            started = (await self.session.exec(select(func.count()).select_from(R).where(in_window))).one()
            if policy.flooded(started):
                row = (await self.session.exec(select(R).where(in_window).order_by(*latest).limit(1))).first()
        if row is None:
            self.session.add(R(**asdict(rejection)))
        else:
            row.count += 1
            row.last_seen_at = max(row.last_seen_at or row.received_at, rejection.received_at)
            self.session.add(row)
        await self.session.flush()

    async def rejections_page(self, page: PageRequest) -> Page[WebhookRejection]:
        """A page of refusals by id."""
        return await paginate(
            self.session, select(WebhookRejectionRow), WebhookRejectionRow.id, page, _rejection_of
        )
