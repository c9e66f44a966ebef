"""The vendor's webhook calls: verified, stored and acknowledged in groups (group commit).

A call's 2xx means its notice is in our database (DESIGN §7 "Acknowledgement"). The route hands
each call to the service's `GroupCommit` (libs/platform/group_commit.py); its writer passes every
call queued meanwhile to `store_calls`, which checks each and writes the group in one transaction:

1. the signature and timestamp against the vendor's valid secrets (the group's vendors read
   once); then the body: JSON, the fields, counts that add up;
2. a refused call is recorded in `overage_webhook_rejections` with its reason, size and SHA-256,
   never its body — in the same commit as the group's notices;
3. a notice id stored already, or met earlier in the same group, is a duplicate: acknowledged,
   nothing changes (the first one of a group wins, as it would across two groups); the unique
   constraint on (vendor, notice id) holds it across processes — a group that loses that race
   fails as a whole and each call of it is written again alone, now finding the stored notice.

Only after the commit does each call get its outcome, which the route turns into 202 `received`,
200 `duplicate`, 401 or 422.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import ValidationError

from libs.platform.errors import FieldError, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.json_body import loads_exact
from overage.domain.notices import OverageNotice, counts_problem
from overage.domain.rejections import DEFAULT_REJECTION_POLICY, RejectionPolicy
from overage.domain.signatures import Refusal, SignatureRefused, SigningKey, derive_secret, verify
from overage.domain.vendors import Vendor
from overage.handlers.notices_port import WebhookRejection
from overage.schemas.notices import NoticeReceipt, OverageNoticeBody

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork

UnitsOfWork = Callable[[], "OverageUnitOfWork"]


@dataclass(frozen=True)
class WebhookCall:
    """One call as it came: the vendor of its path, its signature headers and its raw body."""

    vendor_id: str
    timestamp: str | None
    signature: str | None
    body: bytes


@dataclass(frozen=True)
class Refused:
    """Why a call is refused: its reason and status, the detail recorded, the 422's field errors."""

    reason: Refusal
    status: int
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    message: str = "the notice is malformed"


@dataclass(frozen=True)
class CallOutcome:
    """What became of a call once its group committed: a receipt, or its refusal (recorded)."""

    receipt: NoticeReceipt | None = None
    refused: Refused | None = None

    def raise_refusal(self) -> NoticeReceipt:
        """The receipt; a refused call raises its 401 or 422."""
        if self.receipt is not None:
            return self.receipt
        assert self.refused is not None
        if self.refused.reason is Refusal.MALFORMED_BODY:
            raise ValidationFailed(self.refused.message, self.refused.errors)
        raise SignatureRefused(self.refused.reason)


def rejection(
    *,
    vendor: str,
    reason: Refusal,
    status: int,
    body: bytes,
    detail: str,
    at: datetime,
    body_size: int | None = None,
) -> WebhookRejection:
    """The record of a refused call: its size and digest, never its body."""
    return WebhookRejection(
        id=new_id("whr"),
        vendor=vendor[:64],
        reason=reason.value,
        status_code=status,
        received_at=at,
        body_bytes=len(body) if body_size is None else body_size,
        body_sha256=hashlib.sha256(body).hexdigest(),
        detail=detail[:300],
    )


async def record_rejection(
    *,
    uow: OverageUnitOfWork,
    vendor: str,
    reason: Refusal,
    status: int,
    body: bytes,
    detail: str,
    body_size: int | None = None,
    refusals: RejectionPolicy = DEFAULT_REJECTION_POLICY,
) -> None:
    """Record a refused webhook call the route never saw (an oversized body) and commit."""
    await uow.notices.add_rejection(
        rejection(
            vendor=vendor,
            reason=reason,
            status=status,
            body=body,
            detail=detail,
            at=uow.clock.now(),
            body_size=body_size,
        ),
        refusals,
    )
    await uow.commit()


def _field_errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"]) for e in exc.errors()
    ]


def _bad_signature(result: OverageNotice | Refused) -> bool:
    return isinstance(result, Refused) and result.reason is Refusal.BAD_SIGNATURE


class VendorsRead:
    """The vendors (with their secrets) a webhook writer has read, remembered for `ttl_s`.

    Every group of calls would read its vendor and the vendor's secrets again: two of the five
    statements of a group. Remembered for a second instead, a vendor costs nothing to most
    groups. What it cannot miss: a call refused on remembered secrets is checked again on secrets
    read now (a new secret works at once); a secret's end moved earlier by a rotation is seen at
    most `ttl_s` late (its expiry itself is checked on every call). Only vendors that exist are
    remembered, so calls for made-up vendor ids cannot grow it.
    """

    def __init__(self, ttl_s: float = 0.0) -> None:
        self.ttl_s = ttl_s
        self._read: dict[str, tuple[float, Vendor]] = {}
        self.remembered: set[str] = set()

    async def get(self, uow: OverageUnitOfWork, vendor_id: str, *, fresh: bool = False) -> Vendor | None:
        """The vendor: as remembered when read less than `ttl_s` ago (unless `fresh`), else read now."""
        seen = self._read.get(vendor_id)
        if not fresh and seen is not None and time.monotonic() - seen[0] < self.ttl_s:
            self.remembered.add(vendor_id)
            return seen[1]
        self.remembered.discard(vendor_id)
        vendor = await uow.vendors.get(vendor_id)
        if vendor is None:
            self._read.pop(vendor_id, None)
        elif self.ttl_s > 0:
            self._read[vendor_id] = (time.monotonic(), vendor)
        return vendor


def _signing_keys(vendor: Vendor, master_key: str, now: datetime) -> list[SigningKey]:
    return [
        SigningKey(s.id, derive_secret(master_key, s.id).encode(), s.expires_at)
        for s in vendor.secrets
        if s.created_at <= now
    ]


def check_call(call: WebhookCall, *, keys: list[SigningKey] | None, now: datetime) -> OverageNotice | Refused:
    """The notice of a good call, else why it is refused.

    `keys` None: the vendor is unknown. The signature is checked before the body is parsed.
    """
    refusal = (
        Refusal.UNKNOWN_VENDOR
        if keys is None
        else verify(keys=keys, timestamp=call.timestamp, signature=call.signature, body=call.body, now=now)
    )
    if refusal is not None:
        return Refused(refusal, 401, refusal.value)
    try:
        parsed = OverageNoticeBody.model_validate(loads_exact(call.body))
    except (ValueError, ValidationError) as exc:
        errors = _field_errors(exc) if isinstance(exc, ValidationError) else [FieldError("body", "not JSON")]
        return Refused(Refusal.MALFORMED_BODY, 422, "; ".join(f"{e.field}: {e.code}" for e in errors), errors)
    licensed, actual, overage = (
        Decimal(parsed.licensed_count),
        Decimal(parsed.actual_user_count),
        Decimal(parsed.overage_count),
    )
    problem = counts_problem(licensed=licensed, actual=actual, overage=overage)
    if problem is not None:
        return Refused(Refusal.MALFORMED_BODY, 422, problem, [FieldError("overage_count", problem)], problem)
    return OverageNotice(
        id=new_id("ovn"),
        vendor_id=call.vendor_id,
        notice_ref=parsed.notice_id,
        tenant_ref=parsed.tenant_id,
        period_start=parsed.period_start(),
        licensed_count=licensed,
        actual_count=actual,
        overage_count=overage,
        vendor_unit_cost=Decimal(parsed.vendor_unit_cost),
        received_at=now,
    )


async def store_calls(
    *,
    uow: OverageUnitOfWork,
    calls: Sequence[WebhookCall],
    master_key: str,
    vendors: VendorsRead | None = None,
    refusals: RejectionPolicy = DEFAULT_REJECTION_POLICY,
) -> list[CallOutcome]:
    """Check every call, store the group's new notices and refusals, commit once (see the module)."""
    now = uow.clock.now()
    vendors = vendors or VendorsRead()
    keys: dict[str, list[SigningKey] | None] = {}
    for vendor_id in dict.fromkeys(call.vendor_id for call in calls):
        vendor = await vendors.get(uow, vendor_id)
        keys[vendor_id] = None if vendor is None else _signing_keys(vendor, master_key, now)
    checked = [check_call(call, keys=keys[call.vendor_id], now=now) for call in calls]
    # A signature refused on secrets remembered from an earlier group is checked again on the
    # vendor's secrets read now: a secret created since works at once.
    remembered = {
        c.vendor_id for c, r in zip(calls, checked, strict=True) if _bad_signature(r)
    } & vendors.remembered
    for vendor_id in remembered:
        vendor = await vendors.get(uow, vendor_id, fresh=True)
        keys[vendor_id] = None if vendor is None else _signing_keys(vendor, master_key, now)
    checked = [
        check_call(call, keys=keys[call.vendor_id], now=now) if call.vendor_id in remembered else result
        for call, result in zip(calls, checked, strict=True)
    ]
    notices = [c for c in checked if isinstance(c, OverageNotice)]
    stored: dict[tuple[str, str], str] = {}
    for vendor_id in dict.fromkeys(n.vendor_id for n in notices):
        refs = [n.notice_ref for n in notices if n.vendor_id == vendor_id]
        for ref, notice_id in (await uow.notices.stored_refs(vendor_id, refs)).items():
            stored[(vendor_id, ref)] = notice_id
    new: list[OverageNotice] = []
    outcomes: list[CallOutcome] = []
    for call, result in zip(calls, checked, strict=True):
        if isinstance(result, OverageNotice):
            known = stored.get((result.vendor_id, result.notice_ref))
            if known is None:
                stored[(result.vendor_id, result.notice_ref)] = result.id
                new.append(result)
            status = "received" if known is None else "duplicate"
            receipt = NoticeReceipt(notice_id=result.notice_ref, id=known or result.id, status=status)
            outcomes.append(CallOutcome(receipt=receipt))
            continue
        await uow.notices.add_rejection(
            rejection(
                vendor=call.vendor_id,
                reason=result.reason,
                status=result.status,
                body=call.body,
                detail=result.detail,
                at=now,
            ),
            refusals,
        )
        outcomes.append(CallOutcome(refused=result))
    await uow.notices.add_many(new)
    await uow.commit()
    return outcomes


async def store_call_groups(
    calls: Sequence[WebhookCall],
    *,
    units_of_work: UnitsOfWork,
    master_key: str,
    vendors: VendorsRead,
    refusals: RejectionPolicy = DEFAULT_REJECTION_POLICY,
) -> list[CallOutcome]:
    """The group commit's write: one unit of work, one commit, for the whole group."""
    async with units_of_work() as uow:
        return await store_calls(
            uow=uow, calls=calls, master_key=master_key, vendors=vendors, refusals=refusals
        )


async def receive_notice(
    *,
    uow: OverageUnitOfWork,
    vendor_id: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    master_key: str,
) -> NoticeReceipt:
    """One call on its own (no group): verify, parse, store and commit; a refusal is recorded, then
    raised."""
    (outcome,) = await store_calls(
        uow=uow, calls=[WebhookCall(vendor_id, timestamp, signature, body)], master_key=master_key
    )
    return outcome.raise_refusal()
