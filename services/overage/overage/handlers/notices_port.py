"""The port of stored notices and refused webhook calls (SQL in `overage.repository.notices`)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from libs.platform.pagination import Page, PageRequest
from overage.domain.notices import NoticeStatus, OverageNotice
from overage.domain.rejections import DEFAULT_REJECTION_POLICY, RejectionPolicy


@dataclass(frozen=True)
class WebhookRejection:
    """A refused webhook call as recorded: never its body, only its size and digest."""

    id: str
    vendor: str
    reason: str
    status_code: int
    received_at: datetime
    body_bytes: int
    body_sha256: str
    detail: str
    count: int = 1
    """Identical refusals counted on this record (`overage.domain.rejections`)."""
    last_seen_at: datetime | None = None
    """The latest of them (None: only the first, at `received_at`)."""


class NoticeRepository(abc.ABC):
    """Stored notices and refused calls."""

    @abc.abstractmethod
    async def add(self, notice: OverageNotice) -> bool:
        """Insert a notice; False (nothing changed) when the vendor's notice id is stored already."""

    @abc.abstractmethod
    async def add_many(self, notices: Sequence[OverageNotice]) -> None:
        """Insert notices checked new (`stored_refs`); a notice id stored meanwhile raises (the
        unique constraint) and the whole transaction fails."""

    @abc.abstractmethod
    async def stored_refs(self, vendor_id: str, notice_refs: Sequence[str]) -> dict[str, str]:
        """Which of the vendor's notice ids are stored: notice id → our id."""

    @abc.abstractmethod
    async def get(self, notice_id: str) -> OverageNotice | None:
        """A stored notice by our id."""

    @abc.abstractmethod
    async def find(self, vendor_id: str, notice_ref: str) -> OverageNotice | None:
        """A stored notice by the vendor's notice id."""

    @abc.abstractmethod
    async def save(self, notice: OverageNotice) -> None:
        """Replace a stored notice (its status, review reason, case)."""

    @abc.abstractmethod
    async def waiting(self, limit: int) -> list[OverageNotice]:
        """Up to `limit` received notices not worked yet, oldest first."""

    @abc.abstractmethod
    async def page(
        self, page: PageRequest, *, status: NoticeStatus | None, vendor_id: str | None
    ) -> Page[OverageNotice]:
        """A page of notices by id, filtered."""

    @abc.abstractmethod
    async def add_rejection(
        self, rejection: WebhookRejection, policy: RejectionPolicy = DEFAULT_REJECTION_POLICY
    ) -> None:
        """Record a refused webhook call, or count it on a record of the window (`policy`)."""

    @abc.abstractmethod
    async def rejections_page(self, page: PageRequest) -> Page[WebhookRejection]:
        """A page of refused calls by id."""
