"""Seed 000 across every service over HTTP (issue 11): the catalog's cost book and cost-plus
price, an order walked through its provisioning workflow to an active 3-year term, three annual
customer invoices from invoicing's bill runs, the vendor commitment overage makes from the
activation (three expected vendor invoices), the vendor's three invoices matched against it,
three months of the vendor's signed overage notices with a late keep (two months charged before
the customer decides), the paperwork signed, the re-bills on the customer's next monthly invoice, the
vendor's overage invoices (the first moves the case to vendor_invoice_received), and the margin
report per month.

Worked independently of the code: the vendor's volume band for 250 seats is 10.00 a seat a month
(101-500), so a year costs 250 x 10.00 x 12 = 30,000.00; +20 % makes 12.00 a seat a month, 144.00 a
seat a year, 250 x 144.00 = 36,000.00 an invoice. Each March the margin is 36,000.00 - 30,000.00 =
6,000.00, 6,000 / 36,000 = 16.666...% → 16.67 (half up); the term's total 108,000.00 - 90,000.00 =
18,000.00, 16.67 %.
Overage: 262 users on 250 licenses is 12 over a month; the vendor's 10.00 + 20 % = 12.00, so each
month re-bills 12 x 12.00 = 144.00 (the next monthly invoice: 3 x 144.00 = 432.00) against the vendor's
12 x 10.00 = 120.00: 24.00 margin a month, 24 / 144 = 16.67 %. With the overage the term bills
The keep raises the subscription to 262 seats from the day of the decision (today: these
processes run on the wall clock), d days before the year ends on 2027-03-01: the next invoice
credits 250 x 144.00 x d / 365 and charges 262 x 144.00 x d / 365 (each rounded half up; 91 days
give -8,975.34 + 9,406.16 = 430.82) beside the three re-bills, and the later years bill
262 x 144.00 = 37,728.00. The vendor commitment follows the raise for the years not begun yet:
262 seats are still in the 101-500 band, 262 x 10.00 x 12 = 31,440.00 for 2027 and 2028 (2026,
billed in advance for 250, stays 30,000.00), so those Marches make 37,728.00 - 31,440.00 =
6,288.00, 6,288 / 37,728 = 16.666...% → 16.67; the vendor bills 30,000.00 + 2 x 31,440.00 +
3 x 120.00 = 93,240.00 over the term.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from overage.domain.signatures import sign
from tests.e2e.journeys import (
    customer_account,
    order_seats,
    resold_wfm_seats,
    submit,
    walk_workflow,
    workflows_of,
)
from tests.e2e.test_invoicing import _bill_run
from tests.provisioning.integration.factories import OPS, ok
from tests.support.polling import eventually
from tests.support.services import auth

FINANCE = auth("finance")
YEARS = ("2026", "2027", "2028")
MONTHS = ("2026-04", "2026-05", "2026-06")
TENANT = "redfin-wfm-1"


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


async def _notice(overage: httpx.AsyncClient, vendor_id: str, secret: str, period: str) -> None:
    """The vendor's signed notice for a month: 262 users on 250 licenses."""
    body = json.dumps(
        {
            "notice_id": f"notice-{period}",
            "tenant_id": TENANT,
            "period": period,
            "licensed_count": 250,
            "actual_user_count": 262,
            "overage_count": 12,
            "vendor_unit_cost": "10.00",
        }
    ).encode()
    timestamp = str(int(time.time()))
    response = await overage.post(
        f"/v1/webhooks/vendors/{vendor_id}/overage",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature-Timestamp": timestamp,
            "X-Signature": sign(secret, timestamp, body),
        },
    )
    assert response.status_code == 202, response.text


async def _act(overage: httpx.AsyncClient, case_id: str, action: str, **extra: str) -> dict[str, Any]:
    return await ok(
        await overage.post(
            f"/v1/overage-cases/{case_id}/actions", json={"action": action, **extra}, headers=FINANCE
        )
    )


async def test_seed_000_through_every_service_to_the_margin_report(
    catalog: httpx.AsyncClient,
    provisioning: httpx.AsyncClient,
    invoicing: httpx.AsyncClient,
    overage: httpx.AsyncClient,
) -> None:
    seats = await resold_wfm_seats(catalog, billing_period="annual")
    account = await customer_account(provisioning)
    order = await order_seats(provisioning, account.account_id, seats.price_id)
    await submit(provisioning, order["id"])
    (workflow,) = await workflows_of(provisioning, order["id"])
    await walk_workflow(provisioning, workflow["id"])
    subscription_id = workflow["subscription_id"]
    active = await ok(await provisioning.get(f"/v1/subscriptions/{subscription_id}", headers=OPS))
    assert (active["state"], active["quantity"], active["term_start"]) == ("active", "250", "2026-03-01")

    # Overage commits to the vendor from the activation and the catalog's events alone.
    async def commitments() -> list[dict[str, Any]]:
        found = await overage.get(
            "/v1/vendor-commitments", params={"subscription_id": subscription_id}, headers=FINANCE
        )
        return list(found.json()["data"]) if found.status_code == 200 else []

    (commitment,) = await eventually(commitments, until=bool, timeout_s=60)
    assert (commitment["vendor_id"], commitment["seats"]) == (seats.vendor_id, "250")
    assert [(e["invoice_date"], e["amount"], e["status"]) for e in commitment["expected_invoices"]] == [
        (f"{year}-03-01", "30000.00", "expected") for year in YEARS
    ]

    # Three customer invoices, one a year in advance.
    async def preview() -> list[dict[str, Any]]:
        response = await invoicing.get(
            f"/v1/accounts/{account.account_id}/invoice-preview",
            params={"bill_date": "2026-03-01"},
            headers=FINANCE,
        )
        return list(response.json()["invoices"]) if response.status_code == 200 else []

    await eventually(preview, until=bool, timeout_s=60)
    await _bill_run(invoicing, "2026-03-01", account.account_id)

    # The vendor's monthly overage notices: a case, two months charged before a late keep.
    vendor = await ok(
        await overage.post(
            "/v1/vendors", json={"name": "WFM vendor", "cost_book_id": seats.cost_book_id}, headers=FINANCE
        ),
        201,
    )
    vendor_id, secret = vendor["id"], vendor["webhook_secret"]["secret"]
    await ok(
        await overage.post(
            "/v1/vendor-tenants",
            json={
                "vendor_id": vendor_id,
                "tenant_id": TENANT,
                "account_id": account.account_id,
                "subscription_id": subscription_id,
            },
            headers=FINANCE,
        ),
        201,
    )

    async def the_case() -> dict[str, Any]:
        found = await overage.get(
            "/v1/overage-cases", params={"account_id": account.account_id}, headers=FINANCE
        )
        listed = found.json()["data"] if found.status_code == 200 else []
        if not listed:
            return {"notices": []}
        return dict((await overage.get(f"/v1/overage-cases/{listed[0]['id']}", headers=FINANCE)).json())

    async def notice_worked(period: str) -> dict[str, Any]:
        await _notice(overage, vendor_id, secret, period)
        count = MONTHS.index(period) + 1
        return await eventually(the_case, until=lambda c: len(c["notices"]) == count, timeout_s=30)

    await notice_worked("2026-04")
    case = await notice_worked("2026-05")
    case_id = case["id"]
    await _act(overage, case_id, "contact_crm_owner")
    kept = await _act(overage, case_id, "record_decision", decision="keep")
    assert (kept["state"], kept["decision"]) == ("customer_decided", "keep")
    await _act(overage, case_id, "inform_vendor")
    case = await notice_worked("2026-06")  # paperwork not signed yet: charged again
    await _act(overage, case_id, "sign_paperwork")
    assert case["rebilled_amount"] in ("432.00", "432")

    # The re-bills reach invoicing as one-time charges dated the day overage worked the notice
    # (the wall clock: these processes run on it), billed by the next monthly run after it.
    today = datetime.now(UTC).date()
    rebill_day = f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}-01"
    # The keep's upgrade, from today to the end of the first year (worked as the docstring says).
    days = (date(2027, 3, 1) - today).days
    upgrade = _cents(Decimal(262 * 144 * days) / 365) - _cents(Decimal(250 * 144 * days) / 365)
    first_monthly = Decimal("432.00") + upgrade

    async def july() -> list[dict[str, Any]]:
        response = await invoicing.get(
            f"/v1/accounts/{account.account_id}/invoice-preview",
            params={"bill_date": rebill_day},
            headers=FINANCE,
        )
        return list(response.json()["invoices"]) if response.status_code == 200 else []

    await eventually(july, until=lambda p: [i["total"] for i in p] == [str(first_monthly)], timeout_s=60)
    for day in sorted({rebill_day, "2027-03-01", "2028-03-01", "2029-03-01"}):
        await _bill_run(invoicing, day, account.account_id)
    listed = await invoicing.get("/v1/invoices", params={"account_id": account.account_id}, headers=FINANCE)
    invoices = sorted(listed.json()["data"], key=lambda invoice: invoice["invoice_date"])
    assert sorted((i["invoice_date"], i["total"]) for i in invoices) == sorted(
        [
            ("2026-03-01", "36000.00"),
            (rebill_day, str(first_monthly)),
            ("2027-03-01", "37728.00"),
            ("2028-03-01", "37728.00"),
        ]
    )
    (rebilled,) = [i["lines"] for i in invoices if i["invoice_date"] == rebill_day]
    assert sorted(
        (ln["description"][:24], ln["quantity"], ln["unit_price"], ln["amount"])
        for ln in rebilled
        if ln["description"].startswith("License overage")
    ) == [(f"License overage {month}:", "12", "12", "144.00") for month in MONTHS]
    assert sorted(
        (ln["quantity"], ln["amount"]) for ln in rebilled if ln["charge_key"].startswith("recurring:")
    ) == sorted(
        [
            ("250", str(-_cents(Decimal(250 * 144 * days) / 365))),
            ("262", str(_cents(Decimal(262 * 144 * days) / 365))),
        ]
    )

    # The vendor's overage invoices, one a month by tenant; the first moves the case.
    for month in MONTHS:
        year, mm = month.split("-")
        end = f"{year}-{int(mm) + 1:02d}-01"
        overage_bill = await ok(
            await overage.post(
                "/v1/vendor-invoices",
                json={
                    "vendor_id": vendor_id,
                    "number": f"WFM-OVG-{month}",
                    "kind": "overage",
                    "tenant_id": TENANT,
                    "overage_case_id": case_id,
                    "currency": "USD",
                    "amount": "120.00",
                    "invoice_date": end,
                    "period_start": f"{month}-01",
                    "period_end": end,
                    "source": "vendor",
                },
                headers=FINANCE,
            ),
            201,
        )
        assert (overage_bill["account_id"], overage_bill["subscription_id"]) == (
            account.account_id,
            subscription_id,
        )
    moved = await eventually(the_case, until=lambda c: c["state"] == "vendor_invoice_received", timeout_s=30)
    assert [s["actor"] for s in moved["steps"] if s["action"] == "record_vendor_invoice"] == [
        "overage.case_workflow"
    ]
    closed = await _act(overage, case_id, "close")
    assert closed["state"] == "closed"

    # The keep's raise reached the commitment: the years not begun expect 262 seats.
    raised = await eventually(
        commitments,
        until=lambda found: (
            bool(found)
            and [e["amount"] for e in found[0]["expected_invoices"]] == ["30000.00", "31440.00", "31440.00"]
        ),
        timeout_s=30,
    )
    assert raised[0]["seats"] == "262"
    annual = {"2026": "30000.00", "2027": "31440.00", "2028": "31440.00"}

    # The vendor's three annual invoices, each matched to its expected one, approved and paid.
    for year in YEARS:
        received = await ok(
            await overage.post(
                "/v1/vendor-invoices",
                json={
                    "vendor_id": seats.vendor_id,
                    "number": f"WFM-{year}-0250",
                    "kind": "annual",
                    "subscription_id": subscription_id,
                    "currency": "USD",
                    "amount": annual[year],
                    "invoice_date": f"{year}-03-01",
                    "period_start": f"{year}-03-01",
                    "period_end": f"{int(year) + 1}-03-01",
                    "source": "vendor",
                },
                headers=FINANCE,
            ),
            201,
        )
        assert (received["match"], received["amount"]) == ("matched", annual[year])
        await ok(
            await overage.post(f"/v1/vendor-invoices/{received['id']}/approve", json={}, headers=FINANCE)
        )
        await ok(
            await overage.post(
                f"/v1/vendor-invoices/{received['id']}/pay",
                json={"payment_reference": f"WIRE-{year}"},
                headers=FINANCE,
            )
        )
    (matched,) = await commitments()
    assert [(e["status"], e["received_amount"]) for e in matched["expected_invoices"]] == [
        ("received", annual[year]) for year in YEARS
    ]

    # The margin report: invoicing's finalized invoices reach overage through its events.
    async def margins() -> dict[str, Any]:
        found = await overage.get(
            "/v1/margins",
            params={
                "from": "2026-03",
                "to": max("2029-02", rebill_day[:7]),
                "account_id": account.account_id,
            },
            headers=FINANCE,
        )
        return dict(found.json())

    billed_total = Decimal("36000.00") + first_monthly + 2 * Decimal("37728.00")
    margin_total = billed_total - Decimal("93240.00")
    report = await eventually(
        margins,
        until=lambda r: sum(Decimal(ln["billed_to_customer"]) for ln in r.get("lines", [])) == billed_total,
        timeout_s=60,
    )
    months = {
        ln["period"]: (ln["billed_to_customer"], ln["billed_by_vendor"], ln["margin"], ln["margin_percent"])
        for ln in report["lines"]
    }
    assert months["2026-03"] == ("36000.00", "30000.00", "6000.00", "16.67")
    for year in YEARS[1:]:
        assert months[f"{year}-03"] == ("37728.00", "31440.00", "6288.00", "16.67")
    # Both sides of each month's overage fall in the month it is for (the notice's period), not
    # the month it was worked or invoiced: 144.00 against 120.00, 24.00, 16.67 %.
    for month in MONTHS:
        assert months[month] == ("144.00", "120.00", "24.00", "16.67")
    (total,) = report["totals"]
    assert (
        total["billed_to_customer"],
        total["billed_by_vendor"],
        total["margin"],
        total["margin_percent"],
    ) == (
        str(billed_total),
        "93240.00",
        str(margin_total),
        str((margin_total * 100 / billed_total).quantize(Decimal("0.01"), ROUND_HALF_UP)),
    )
