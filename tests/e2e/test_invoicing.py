"""EXAMPLES case 1 across processes, billed: resold WFM seats priced by the catalog (cost-plus,
billed annually in advance), ordered and activated in provisioning, invoiced by invoicing's bill
runs from the events alone — exactly three invoices over the 3-year term.

Expected: the vendor's band for 250 seats is 10.00 a seat a month; +20 % and 12 months make
144.00 a seat a year, 250 x 144.00 = 36,000.00 an invoice (no tax rate is published here).
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
from tests.provisioning.integration.factories import OPS, ok
from tests.support.polling import eventually
from tests.support.services import auth

FINANCE = auth("finance")


async def _bill_run(invoicing: httpx.AsyncClient, bill_date: str, account_id: str) -> dict[str, Any]:
    started = await invoicing.post(
        "/v1/bill-runs", json={"bill_date": bill_date, "account_ids": [account_id]}, headers=FINANCE
    )
    assert started.status_code == 202, started.text

    async def run() -> dict[str, Any]:
        return dict((await invoicing.get(f"/v1/bill-runs/{started.json()['id']}", headers=FINANCE)).json())

    return await eventually(run, until=lambda r: r["state"].startswith("completed"), timeout_s=60)


async def test_a_three_year_term_billed_annually_in_advance_gives_exactly_three_invoices(
    catalog: httpx.AsyncClient, provisioning: httpx.AsyncClient, invoicing: httpx.AsyncClient
) -> None:
    seats = await resold_wfm_seats(catalog, billing_period="annual")
    account = await customer_account(provisioning)
    order = await order_seats(provisioning, account.account_id, seats.price_id)
    await submit(provisioning, order["id"])
    (workflow,) = await workflows_of(provisioning, order["id"])
    await walk_workflow(provisioning, workflow["id"])
    active = await ok(await provisioning.get(f"/v1/subscriptions/{workflow['subscription_id']}", headers=OPS))
    assert (active["state"], active["unit_price"], active["term_start"]) == ("active", "144", "2026-03-01")

    async def preview() -> dict[str, Any]:
        response = await invoicing.get(
            f"/v1/accounts/{account.account_id}/invoice-preview",
            params={"bill_date": "2026-03-01"},
            headers=FINANCE,
        )
        return dict(response.json()) if response.status_code == 200 else {"invoices": []}

    # Invoicing learns the account and the subscription from provisioning's events.
    previewed = await eventually(preview, until=lambda p: bool(p["invoices"]), timeout_s=60)
    assert [invoice["total"] for invoice in previewed["invoices"]] == ["36000.00"]

    runs = [await _bill_run(invoicing, day, account.account_id) for day in ("2026-03-01", "2026-03-01")]
    assert [(r["state"], r["invoices_created"]) for r in runs] == [("completed", 1), ("completed", 0)]
    for day in ("2026-09-01", "2027-03-01", "2028-03-01", "2029-03-01", "2029-06-01"):
        await _bill_run(invoicing, day, account.account_id)

    listed = await invoicing.get("/v1/invoices", params={"account_id": account.account_id}, headers=FINANCE)
    invoices = sorted(listed.json()["data"], key=lambda invoice: invoice["invoice_date"])
    assert [(i["invoice_date"], i["total"], i["state"]) for i in invoices] == [
        ("2026-03-01", "36000.00", "finalized"),
        ("2027-03-01", "36000.00", "finalized"),
        ("2028-03-01", "36000.00", "finalized"),
    ]
    (line,) = invoices[0]["lines"]
    assert (line["quantity"], line["unit_price"], line["period_start"], line["period_end"]) == (
        "250",
        "144",
        "2026-03-01",
        "2027-03-01",
    )
    numbers = [invoice["number"] for invoice in invoices]
    assert len(set(numbers)) == 3 and all(n.startswith("INV-20") for n in numbers)
