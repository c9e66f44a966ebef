"""An overage's margin falls in the month the overage is for (the notice's period), on both sides.

Worked by hand (EXAMPLES §1): 262 users on 250 licenses is 12 over; the vendor charges 12 x 10.00 =
120.00 a month, we re-bill 12 x (10.00 + 20 %) = 12 x 12.00 = 144.00 a month, margin 24.00,
24 / 144 = 16.666...% -> 16.67. Three months (April, May, June 2026) are worked in August (the
clock) and re-billed on the September invoice (one-time lines on the day they were worked); the
vendor bills the three months on one invoice of 360.00 for April-June. Each of April, May and June
must show 144.00 against 120.00; August and September nothing; the totals 432.00 / 360.00 / 72.00,
16.67 %.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from tests.overage.factories import invoice_finalized, invoice_line
from tests.overage.integration.conftest import MovableClock, Overage, runtime_of
from tests.overage.integration.factories import case, cases, notice_body, post_notice, seeded_tenant
from tests.support.services import auth

FINANCE = auth("finance")
MONTHS = ("2026-04", "2026-05", "2026-06")


def _rows(lines: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            line["account_id"],
            line["period"],
            line["billed_to_customer"],
            line["billed_by_vendor"],
            line["margin"],
            line["margin_percent"],
        )
        for line in lines
    ]


async def _three_months_of_overage(
    client: httpx.AsyncClient, app: FastAPI, clock: MovableClock
) -> tuple[str, str]:
    """Notices for April-June worked on 2 August; the tenant's vendor and its case."""
    t = await seeded_tenant(client, app)
    for month in MONTHS:
        body = notice_body(f"monet-{month}", period=month, actual=262)
        assert (await post_notice(client, t.vendor_id, t.secret, body, clock)).status_code == 202
    await runtime_of(app).work_notices()
    (opened,) = await cases(client)
    assert len((await case(client, opened["id"]))["notices"]) == 3
    return t.vendor_id, str(opened["id"])


def _rebills(vendor_id: str) -> list[Any]:
    # As invoicing bills a re-bill: a one-time charge (`one_time:{our charge key}`, its source our
    # charge key) on the day the notice was worked (2 August). Two name the subscription, one not.
    lines = []
    for n, month in enumerate(MONTHS):
        key = f"overage:{vendor_id}:monet-{month}"
        line = invoice_line(
            f"one_time:{key}",
            "144.00",
            period_start=date(2026, 8, 2),
            period_end=date(2026, 8, 2),
            subscription_id="sub_wfm" if n else None,
            quantity="12",
            unit_price="12.00",
            kind="one_time",
        )
        lines.append(line.model_copy(update={"source_kind": "one_time_charge", "source_id": key}))
    return lines


async def test_both_sides_of_an_overage_fall_in_the_notice_period(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    vendor_id, case_id = await _three_months_of_overage(client, overage_app, clock)
    overage = Overage(overage_app, client)
    await overage.deliver(
        invoice_finalized("inv_sep", "INV-2026-000200", date(2026, 9, 1), _rebills(vendor_id), "acct_wfm")
    )
    received = await client.post(
        "/v1/vendor-invoices",
        json={
            "vendor_id": vendor_id,
            "number": "MON-OVG-2026-Q2",
            "kind": "overage",
            "tenant_id": "monet-tenant-1",
            "overage_case_id": case_id,
            "currency": "USD",
            "amount": "360.00",
            "invoice_date": "2026-08-15",
            "period_start": "2026-04-01",
            "period_end": "2026-07-01",
            "source": "vendor",
        },
        headers=FINANCE,
    )
    assert received.status_code == 201, received.text

    answer = await client.get("/v1/margins", params={"from": "2026-01", "to": "2026-12"}, headers=FINANCE)
    assert answer.status_code == 200, answer.text
    assert _rows(answer.json()["lines"]) == [
        ("acct_wfm", month, "144.00", "120.00", "24.00", "16.67") for month in MONTHS
    ]
    assert _rows(answer.json()["totals"]) == [(None, "total", "432.00", "360.00", "72.00", "16.67")]

    csv_answer = await client.get(
        "/v1/margins", params={"from": "2026-01", "to": "2026-12", "format": "csv"}, headers=FINANCE
    )
    assert csv_answer.status_code == 200
    assert csv_answer.text.count("144.00,120.00,24.00") == 3

    # A month alone: June holds June's overage, August (when it was worked) nothing.
    june = await client.get("/v1/margins", params={"from": "2026-06", "to": "2026-06"}, headers=FINANCE)
    assert _rows(june.json()["lines"]) == [("acct_wfm", "2026-06", "144.00", "120.00", "24.00", "16.67")]
    august = await client.get("/v1/margins", params={"from": "2026-08", "to": "2026-09"}, headers=FINANCE)
    assert august.json()["lines"] == []


async def test_a_vendor_invoice_split_over_its_months_adds_up_to_the_cent(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    # 100.00 over three equal months: 33.33 + 33.33 + 33.34 (the last month takes the cent left).
    vendor_id, case_id = await _three_months_of_overage(client, overage_app, clock)
    received = await client.post(
        "/v1/vendor-invoices",
        json={
            "vendor_id": vendor_id,
            "number": "MON-OVG-ODD",
            "kind": "overage",
            "tenant_id": "monet-tenant-1",
            "overage_case_id": case_id,
            "currency": "USD",
            "amount": "100.00",
            "invoice_date": "2026-08-15",
            "period_start": "2026-04-01",
            "period_end": "2026-07-01",
            "source": "vendor",
        },
        headers=FINANCE,
    )
    assert received.status_code == 201, received.text
    answer = await client.get("/v1/margins", params={"from": "2026-01", "to": "2026-12"}, headers=FINANCE)
    vendor = [(line["period"], line["billed_by_vendor"]) for line in answer.json()["lines"]]
    assert vendor == [("2026-04", "33.33"), ("2026-05", "33.33"), ("2026-06", "33.34")]
    assert sum(Decimal(v) for _, v in vendor) == Decimal("100.00")
    assert answer.json()["totals"][0]["billed_by_vendor"] == "100.00"
