"""Seed 000 across every service over HTTP (issue 11): the catalog's cost book and cost-plus
price, an order walked through its provisioning workflow to an active 3-year term, three annual
customer invoices from invoicing's bill runs, the vendor commitment overage makes from the
activation (three expected vendor invoices), the vendor's three invoices matched against it, and
the margin report per month.

Worked independently of the code: the vendor's volume band for 250 seats is 10.00 a seat a month
(101-500), so a year costs 250 x 10.00 x 12 = 30,000.00; +20 % makes 12.00 a seat a month, 144.00 a
seat a year, 250 x 144.00 = 36,000.00 an invoice. Each March the margin is 36,000.00 - 30,000.00 =
6,000.00, 6,000 / 36,000 = 16.666...% → 16.67 (half up); the term's total 108,000.00 - 90,000.00 =
18,000.00, 16.67 %.
"""

from __future__ import annotations

from typing import Any

import httpx

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
    for day in ("2026-03-01", "2027-03-01", "2028-03-01", "2029-03-01"):
        await _bill_run(invoicing, day, account.account_id)
    listed = await invoicing.get("/v1/invoices", params={"account_id": account.account_id}, headers=FINANCE)
    invoices = sorted(listed.json()["data"], key=lambda invoice: invoice["invoice_date"])
    assert [(i["invoice_date"], i["total"]) for i in invoices] == [
        (f"{year}-03-01", "36000.00") for year in YEARS
    ]

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
                    "amount": "30000.00",
                    "invoice_date": f"{year}-03-01",
                    "period_start": f"{year}-03-01",
                    "period_end": f"{int(year) + 1}-03-01",
                    "source": "vendor",
                },
                headers=FINANCE,
            ),
            201,
        )
        assert (received["match"], received["amount"]) == ("matched", "30000.00")
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
        ("received", "30000.00")
    ] * 3

    # The margin report: invoicing's finalized invoices reach overage through its events.
    async def margins() -> dict[str, Any]:
        found = await overage.get(
            "/v1/margins",
            params={"from": "2026-03", "to": "2029-02", "account_id": account.account_id},
            headers=FINANCE,
        )
        return dict(found.json())

    report = await eventually(
        margins,
        until=lambda r: len([ln for ln in r.get("lines", []) if ln["billed_to_customer"] != "0.00"]) == 3,
        timeout_s=60,
    )
    months = [
        (ln["period"], ln["billed_to_customer"], ln["billed_by_vendor"], ln["margin"], ln["margin_percent"])
        for ln in report["lines"]
        if ln["billed_to_customer"] != "0.00" or ln["billed_by_vendor"] != "0.00"
    ]
    assert months == [(f"{year}-03", "36000.00", "30000.00", "6000.00", "16.67") for year in YEARS]
    (total,) = report["totals"]
    assert (
        total["billed_to_customer"],
        total["billed_by_vendor"],
        total["margin"],
        total["margin_percent"],
    ) == (
        "108000.00",
        "90000.00",
        "18000.00",
        "16.67",
    )
