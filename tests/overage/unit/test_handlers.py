"""The handlers on the in-memory unit of work (the bootstrap seam): a webhook call is verified,
stored or refused and recorded; a stored notice is worked into its case and re-billed; a late keep
is charged each month until the paperwork is signed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from libs.platform.clock import FixedClock
from libs.platform.errors import ValidationFailed
from overage.bootstrap import bootstrap
from overage.config import OverageSettings
from overage.domain.cases import CaseAction, Decision
from overage.domain.notices import NoticeStatus, ReviewReason
from overage.domain.signatures import SignatureRefused, derive_secret, sign
from overage.domain.vendors import CostBookTerms, LicensedSubscription
from overage.handlers import cases, notices, vendors, webhook_calls
from overage.schemas.cases import CaseActionRequest
from overage.schemas.vendors import SecretCreate, VendorCreate, VendorTenantCreate
from tests.overage.unit.fakes import NOW, FakeOverageUnitOfWork, OverageStore

MASTER = "unit-test-master-key-0123456789abcdef"


async def _world(store: OverageStore) -> tuple[str, str]:
    created = await vendors.create_vendor(
        uow=FakeOverageUnitOfWork(store),
        command=VendorCreate(name="WFM", cost_book_id="cb_wfm"),
        master_key=MASTER,
    )
    store.subscriptions["sub_1"] = LicensedSubscription("sub_1", "acct_1", Decimal(250), "USD", "active", NOW)
    store.cost_books["cb_wfm"] = CostBookTerms("cb_wfm", 1, "ven_wfm", "USD", Decimal(20), NOW)
    await vendors.map_tenant(
        uow=FakeOverageUnitOfWork(store),
        command=VendorTenantCreate(
            vendor_id=created.id, tenant_id="t-1", account_id="acct_1", subscription_id="sub_1"
        ),
    )
    return created.id, created.webhook_secret.secret


def _body(notice_id: str, period: str, actual: int, licensed: int = 250) -> bytes:
    return json.dumps(
        {
            "notice_id": notice_id,
            "tenant_id": "t-1",
            "period": period,
            "licensed_count": licensed,
            "actual_user_count": actual,
            "overage_count": max(actual - licensed, 0),
            "vendor_unit_cost": "10.00",
        }
    ).encode()


async def _receive(store: OverageStore, vendor_id: str, secret: str, body: bytes, **kw: str) -> str:
    ts = str(int(NOW.timestamp()))
    receipt = await webhook_calls.receive_notice(
        uow=FakeOverageUnitOfWork(store),
        vendor_id=vendor_id,
        timestamp=kw.get("timestamp", ts),
        signature=kw.get("signature", sign(secret, ts, body)),
        body=body,
        master_key=MASTER,
    )
    return receipt.status


async def test_the_secret_shown_once_is_the_one_derived_from_the_master_key() -> None:
    store = OverageStore()
    vendor_id, secret = await _world(store)
    (stored,) = store.vendors[vendor_id].secrets
    assert secret == derive_secret(MASTER, stored.id)
    assert secret not in repr(store.vendors[vendor_id])


async def test_a_refused_call_is_recorded_and_stores_no_notice() -> None:
    store = OverageStore()
    vendor_id, secret = await _world(store)
    with pytest.raises(SignatureRefused):
        await _receive(
            store, vendor_id, secret, _body("n-1", "2026-07", 262), signature=sign("wrong", "1", b"")
        )
    with pytest.raises(ValidationFailed):
        await _receive(store, vendor_id, secret, b"[1, 2]")
    assert [(r.reason, r.status_code) for r in store.rejections] == [
        ("bad_signature", 401),
        ("malformed_body", 422),
    ]
    assert store.notices == {}


async def test_an_unmapped_tenant_waits_in_review() -> None:
    store = OverageStore()
    vendor_id, secret = await _world(store)
    body = _body("n-1", "2026-07", 262).replace(b'"t-1"', b'"t-2"')
    assert await _receive(store, vendor_id, secret, body) == "received"
    (notice,) = store.notices.values()
    assert (
        await notices.work_notice(uow=FakeOverageUnitOfWork(store), notice_id=notice.id)
        is NoticeStatus.REVIEW
    )
    assert store.notices[notice.id].review_reason is ReviewReason.UNKNOWN_TENANT


async def test_a_late_keep_is_re_billed_every_month_until_the_paperwork_is_signed() -> None:
    store = OverageStore()
    vendor_id, secret = await _world(store)
    events: list[str] = []

    async def month(notice_id: str, period: str, actual: int, days: int) -> None:
        assert await _receive(store, vendor_id, secret, _body(notice_id, period, actual)) == "received"
        notice = next(n for n in store.notices.values() if n.notice_ref == notice_id)
        uow = FakeOverageUnitOfWork(store, clock=FixedClock(NOW + timedelta(days=days)))
        assert await notices.work_notice(uow=uow, notice_id=notice.id) is NoticeStatus.APPLIED
        events.extend(e.type for e in uow.envelopes)

    async def act(action: CaseAction, decision: Decision | None = None) -> None:
        (case_id,) = store.cases
        command = CaseActionRequest(action=action, decision=decision)
        uow = FakeOverageUnitOfWork(store)
        await cases.take_action(uow=uow, case_id=case_id, command=command, deadline_days={})
        events.extend(e.type for e in uow.envelopes)

    await month("n-07", "2026-07", 262, 0)
    await act(CaseAction.CONTACT_CRM_OWNER)
    await month("n-08", "2026-08", 264, 30)
    await act(CaseAction.RECORD_DECISION, Decision.KEEP)
    await month("n-09", "2026-09", 265, 60)
    await act(CaseAction.INFORM_VENDOR)
    await act(CaseAction.SIGN_PAPERWORK)

    (case,) = store.cases.values()
    assert case.is_open and case.paperwork_signed_at is not None
    lines = sorted(store.case_notices.values(), key=lambda n: n.period_start)
    assert [(n.period_start, n.amount) for n in lines] == [
        (date(2026, 7, 1), Decimal("144.00")),
        (date(2026, 8, 1), Decimal("168.00")),
        (date(2026, 9, 1), Decimal("180.00")),
    ]
    assert events.count("overage.rebill_requested") == 3
    assert events.count("overage.licenses_kept") == 1


async def test_the_bootstrap_seam_runs_the_notice_worker_on_the_fake() -> None:
    store = OverageStore()
    vendor_id, secret = await _world(store)
    await _receive(store, vendor_id, secret, _body("n-07", "2026-07", 262))
    settings = OverageSettings(environment="test", database_url="sqlite+aiosqlite:///:memory:")
    runtime = bootstrap(settings, unit_of_work=lambda _principal: FakeOverageUnitOfWork(store))
    assert await runtime.work_notices() == 1
    assert await runtime.work_notices() == 0
    assert [n.status for n in store.notices.values()] == [NoticeStatus.APPLIED]
    await runtime.db.dispose()


async def test_a_group_stores_a_notice_once_and_a_secret_made_after_the_vendor_was_remembered_works() -> None:
    store = OverageStore()
    vendor_id, secret = await _world(store)
    remembered = webhook_calls.VendorsRead(ttl_s=3600)
    ts = str(int(NOW.timestamp()))

    def call(notice_id: str, key: str) -> webhook_calls.WebhookCall:
        body = _body(notice_id, "2026-07", 262)
        return webhook_calls.WebhookCall(vendor_id, ts, sign(key, ts, body), body)

    first = await webhook_calls.store_calls(
        uow=FakeOverageUnitOfWork(store),
        calls=[call("n-1", secret), call("n-1", secret), call("n-2", "wrong")],
        master_key=MASTER,
        vendors=remembered,
    )
    assert [
        o.receipt.status if o.receipt else o.refused.reason.value for o in first if o.receipt or o.refused
    ] == [
        "received",
        "duplicate",
        "bad_signature",
    ]
    rotated = await vendors.add_secret(
        uow=FakeOverageUnitOfWork(store),
        vendor_id=vendor_id,
        command=SecretCreate(overlap_hours=0),
        master_key=MASTER,
    )
    (second,) = await webhook_calls.store_calls(
        uow=FakeOverageUnitOfWork(store),
        calls=[call("n-3", rotated.secret)],
        master_key=MASTER,
        vendors=remembered,
    )
    assert second.receipt is not None and second.receipt.status == "received"
    assert sorted(n.notice_ref for n in store.notices.values()) == ["n-1", "n-3"]
    assert [r.reason for r in store.rejections] == ["bad_signature"]
