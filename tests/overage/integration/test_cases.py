"""The case workflow over HTTP on SQLite and PostgreSQL: a late keep charged every month until the
paperwork is signed, a removal closed by the notice that shows it, illegal steps refused, overdue
cases listed and escalated once per step, and one open case per tenant held by the database."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from libs.platform.ids import new_id
from overage.domain.cases import open_case
from tests.overage.integration.conftest import MovableClock, runtime_of
from tests.overage.integration.factories import (
    act,
    amounts,
    case,
    cases,
    notice_body,
    outbox,
    post_notice,
    seeded_tenant,
)

MONTH = timedelta(days=30)


async def _notice(
    client: httpx.AsyncClient, app: FastAPI, clock: MovableClock, vendor: str, secret: str, **kw: object
) -> None:
    notice_id = f"monet-{kw.get('period', '2026-07')}"
    body = notice_body(notice_id, **kw)  # type: ignore[arg-type]
    response = await post_notice(client, vendor, secret, body, clock)
    assert response.status_code == 202, response.text
    await runtime_of(app).work_notices()


async def test_a_late_keep_is_charged_every_month_until_the_paperwork_is_signed(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    t = await seeded_tenant(client, overage_app)
    # July: 262 users on 250 licenses (12 over at 10.00, re-billed at 12.00 = 144.00).
    await _notice(client, overage_app, clock, t.vendor_id, t.secret, period="2026-07", actual=262)
    (opened,) = await cases(client)
    case_id = opened["id"]
    assert (await act(client, case_id, "contact_crm_owner")).status_code == 200

    # August, still undecided: 264 users, the same open case, 14 x 12.00 = 168.00.
    clock.advance(MONTH)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret, period="2026-08", actual=264)
    assert [c["id"] for c in await cases(client)] == [case_id]

    decided = await act(client, case_id, "record_decision", decision="keep")
    assert decided.status_code == 200, decided.text
    assert (decided.json()["state"], decided.json()["decision"]) == ("customer_decided", "keep")
    assert decided.json()["paperwork_opened_at"] is not None and decided.json()["paperwork_signed_at"] is None
    (kept,) = await outbox(overage_app, "overage.licenses_kept")
    assert (kept["subscription_id"], kept["previous_quantity"], kept["new_quantity"]) == (
        "sub_wfm",
        "250",
        "264",
    )
    assert (await act(client, case_id, "inform_vendor")).status_code == 200

    # September, paperwork not signed yet: the vendor charges again, and so do we (15 x 12.00).
    clock.advance(MONTH)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret, period="2026-09", actual=265)
    assert (await act(client, case_id, "record_vendor_invoice")).status_code == 200
    refused = await act(client, case_id, "close")
    assert refused.status_code == 409  # a kept case closes once the paperwork is signed
    signed = await act(client, case_id, "sign_paperwork")
    assert signed.status_code == 200 and signed.json()["paperwork_signed_at"] is not None
    closed = await act(client, case_id, "close", note="paperwork for 265 seats signed")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")

    detail = await case(client, case_id)
    assert [(n["period_start"], n["overage_count"], n["amount"]) for n in detail["notices"]] == [
        ("2026-07-01", "12", "144.00"),
        ("2026-08-01", "14", "168.00"),
        ("2026-09-01", "15", "180.00"),
    ]
    assert detail["rebilled_amount"] == "492.00"
    assert amounts(await outbox(overage_app, "overage.rebill_requested")) == [
        ("2026-07-01", "12", "144.00"),
        ("2026-08-01", "14", "168.00"),
        ("2026-09-01", "15", "180.00"),
    ]
    rebill = (await outbox(overage_app, "overage.rebill_requested"))[2]
    assert (
        rebill["account_id"],
        rebill["vendor_unit_cost"],
        rebill["markup_percent"],
        rebill["unit_price"],
    ) == (
        "acct_wfm",
        "10",
        "20",
        "12",
    )
    steps = [(s["action"], s["state"], s["actor"]) for s in detail["steps"]]
    assert steps[0] == ("opened", "notified", "overage.worker")
    assert [s[0] for s in steps if not s[0].startswith(("opened", "notice"))] == [
        "contact_crm_owner",
        "record_decision",
        "inform_vendor",
        "record_vendor_invoice",
        "sign_paperwork",
        "close",
    ]
    assert all(actor.startswith(("finance", "overage.")) for _, _, actor in steps), steps

    # A new overage after the case closed opens a new case.
    clock.advance(MONTH)
    await _notice(
        client, overage_app, clock, t.vendor_id, t.secret, period="2026-10", licensed=265, actual=270
    )
    assert len(await cases(client, open="true")) == 1 and len(await cases(client)) == 2


async def test_a_removal_closes_the_case_when_a_notice_shows_the_tenant_within_its_licenses(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    t = await seeded_tenant(client, overage_app)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret, period="2026-07", actual=262)
    (opened,) = await cases(client)
    await act(client, opened["id"], "contact_crm_owner")
    await act(client, opened["id"], "record_decision", decision="remove")
    assert await outbox(overage_app, "overage.licenses_kept") == []
    clock.advance(MONTH)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret, period="2026-08", actual=248)
    detail = await case(client, opened["id"])
    assert (detail["state"], detail["removal_confirmed_at"] is not None) == ("closed", True)
    assert [(n["overage_count"], n["amount"], n["charge_key"]) for n in detail["notices"]][1] == (
        "0",
        "0.00",
        None,
    )
    assert amounts(await outbox(overage_app, "overage.rebill_requested")) == [("2026-07-01", "12", "144.00")]
    # A notice within licenses with no open case opens nothing.
    clock.advance(MONTH)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret, period="2026-09", actual=250)
    assert len(await cases(client)) == 1


async def test_a_removal_can_be_confirmed_by_finance(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    t = await seeded_tenant(client, overage_app)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret)
    (opened,) = await cases(client)
    await act(client, opened["id"], "contact_crm_owner")
    assert (await act(client, opened["id"], "confirm_removal")).status_code == 409  # no decision yet
    await act(client, opened["id"], "record_decision", decision="remove")
    confirmed = await act(client, opened["id"], "confirm_removal")
    assert (confirmed.status_code, confirmed.json()["state"]) == (200, "closed")
    unknown = await act(client, "ovc_nothing", "close")
    assert unknown.status_code == 404
    bad = await act(client, opened["id"], "fly")
    assert bad.status_code == 422


async def test_overdue_cases_are_listed_and_escalated_once_per_step(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    t = await seeded_tenant(client, overage_app)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret)
    (opened,) = await cases(client)
    runtime = runtime_of(overage_app)
    assert await cases(client, overdue="true") == []
    assert await runtime.escalate_overdue() == 0

    clock.advance(timedelta(days=2))  # notified waits 2 days at most
    (overdue,) = await cases(client, overdue="true")
    assert (overdue["id"], overdue["overdue"]) == (opened["id"], True)
    assert await runtime.escalate_overdue() == 1
    assert await runtime.escalate_overdue() == 0  # once per overdue step
    await act(client, opened["id"], "contact_crm_owner")
    assert await cases(client, overdue="true") == []
    clock.advance(timedelta(days=5))  # crm_owner_contacted: 5 days
    assert await runtime.escalate_overdue() == 1
    escalations = await outbox(overage_app, "overage.case_escalated")
    assert [e["state"] for e in escalations] == ["notified", "crm_owner_contacted"]


async def test_the_database_holds_one_open_case_per_tenant(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    t = await seeded_tenant(client, overage_app)
    await _notice(client, overage_app, clock, t.vendor_id, t.secret)
    second = open_case(
        case_id=new_id("ovc"),
        vendor_id=t.vendor_id,
        tenant_ref=t.tenant_ref,
        account_id=t.account_id,
        subscription_id=t.subscription_id,
        at=clock.now(),
    )
    async with runtime_of(overage_app).overage_unit_of_work() as uow:
        assert await uow.cases.add(second) is False
