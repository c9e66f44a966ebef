"""A credit larger than the invoice it lands on (Kill Bill's credit balance adjustment), through
real bill runs on SQLite and PostgreSQL: the invoice never goes below zero, the excess is the
account's credit, shown on the invoice and the statement, and the next invoices take it when they
are issued. Amounts worked out here (EXAMPLES §6, California 7.25 %, rounded per line):

- May run: April's 15 days 150.00 + 10.88, May 300.00 + 21.75 = 482.63; a credit of 1,000.00
  takes its tax back too (1,000.00 + 72.50) → 482.63 - 1,072.50 = -589.87: the invoice is 0.00
  and 589.87 is carried to the account.
- June run: 300.00 + 21.75 = 321.75, paid out of the credit; 268.12 left.
- July run: 321.75, 268.12 out of the credit, 53.63 due.
- Statement May-July: 0.00 + 321.75 + 321.75 invoiced - 589.87 credit = 53.63 due (EXAMPLES §9).
"""

from __future__ import annotations

from typing import Any

import httpx

from invoicing.bootstrap import InvoicingRuntime
from tests.invoicing.integration.test_bill_run_invoices import (  # noqa: F401
    FINANCE,
    _feed,
    _invoices,
    _run,
    invoicing,
)


async def _issued(client: httpx.AsyncClient, account_id: str) -> list[dict[str, Any]]:
    return sorted(await _invoices(client, account_id), key=lambda invoice: invoice["number"])


async def test_a_credit_larger_than_the_invoice_is_carried_to_the_account_and_taken_by_the_next_ones(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],  # noqa: F811
) -> None:
    client, runtime = invoicing
    rate = {
        "country": "US",
        "region": "CA",
        "rate": "7.25",
        "name": "Sales tax",
        "effective_from": "2026-01-01",
    }
    assert (await client.post("/v1/tax-rates", json=rate, headers=FINANCE)).status_code == 201
    await _feed(runtime, "acct_cr", "acct_other")
    credit = {
        "account_id": "acct_cr",
        "currency": "USD",
        "direction": "credit",
        "amount": "1000.00",
        "reason": "Outage credit",
        "effective_date": "2026-05-01",
    }
    created = await client.post("/v1/adjustments", json=credit, headers=FINANCE)
    assert created.status_code == 201, created.text

    # The preview is the same calculation: the invoice it shows carries the excess, totals 0.00.
    preview = await client.get(
        "/v1/accounts/acct_cr/invoice-preview", params={"bill_date": "2026-05-01"}, headers=FINANCE
    )
    assert preview.status_code == 200, preview.text
    (previewed,) = preview.json()["invoices"]
    assert (previewed["subtotal"], previewed["tax"], previewed["total"]) == ("-550.00", "-39.87", "0.00")
    assert [line["amount"] for line in previewed["lines"]] == ["150.00", "300.00", "-1000.00", "589.87"]

    may = await _run(client, "2026-05-01")

    assert (may["state"], may["invoices_created"]) == ("completed", 2), may
    (invoice,) = await _issued(client, "acct_cr")
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"], invoice["amount_due"]) == (
        "-550.00",
        "-39.87",
        "0.00",
        "0.00",
    )
    assert invoice["state"] == "paid"
    assert [(line["kind"], line["amount"], line["tax_amount"]) for line in invoice["lines"]] == [
        ("recurring", "150.00", "10.88"),
        ("recurring", "300.00", "21.75"),
        ("adjustment", "-1000.00", "-72.50"),
        ("account_credit", "589.87", "0.00"),
    ]
    assert invoice["account_credit_carried"] == "589.87"
    balance = (await client.get("/v1/accounts/acct_cr/balance", headers=FINANCE)).json()
    assert balance["balances"][0]["account_credit"] == "589.87"
    (other,) = await _issued(client, "acct_other")
    assert (other["total"], other["account_credit_carried"]) == ("482.63", "0.00")

    await _run(client, "2026-06-01")
    await _run(client, "2026-07-01")

    _, june, july = await _issued(client, "acct_cr")
    assert (june["total"], june["amount_paid"], june["amount_due"], june["state"]) == (
        "321.75",
        "321.75",
        "0.00",
        "paid",
    )
    assert (july["total"], july["amount_paid"], july["amount_due"], july["state"]) == (
        "321.75",
        "268.12",
        "53.63",
        "partially_paid",
    )
    balance = (await client.get("/v1/accounts/acct_cr/balance", headers=FINANCE)).json()
    assert (balance["balances"][0]["account_credit"], balance["balances"][0]["billed"]) == ("0.00", "53.63")

    params = {"from": "2026-05-01", "to": "2026-07-31"}
    response = await client.get("/v1/accounts/acct_cr/statements", params=params, headers=FINANCE)
    assert response.status_code == 200, response.text
    statement = response.json()
    summary = statement["summary"]
    assert (summary["previous_balance"], summary["credits_and_adjustments"], summary["invoices"]) == (
        "0.00",
        "-589.87",
        "643.50",
    )
    assert summary["balance_due"] == "53.63"
    assert [(entry["kind"], entry["amount"], entry["balance"]) for entry in statement["entries"]] == [
        ("invoice", "0.00", "0.00"),
        ("credit_adjustment", "-589.87", "-589.87"),
        ("invoice", "321.75", "-268.12"),
        ("invoice", "321.75", "53.63"),
    ]

    # An issued invoice that carried credit to the account is corrected, not voided: 409.
    refused = await client.post(f"/v1/invoices/{invoice['id']}/void", json={}, headers=FINANCE)
    assert refused.status_code == 409, refused.text
