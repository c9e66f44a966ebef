"""`/v1/lockbox-files` on SQLite and PostgreSQL: a bank's check file imported in one call, matched to
invoices by number or to accounts oldest first, unmatched lines kept and applied by hand, the same
file imported twice changing nothing; and the statement of EXAMPLES §9 with a real payment, credit
note and reversal. The service's clock: noon in New York, 2026-08-01."""

from __future__ import annotations

from datetime import date

from tests.invoicing.integration.conftest import Invoicing
from tests.invoicing.integration.payments_support import OPS, Books, key

FILE = (
    "check_number,amount,invoice_number,account_id,deposit_date\n"
    "5001,300.00,INV-2026-000002,,2026-08-03\n"
    "5002,250.00,INV-2026-000003,,2026-08-03\n"
    "5003,260.00,,acct_1,2026-08-03\n"
    "5004,75.00,INV-2099-000001,,2026-08-04\n"
    "5005,abc,,acct_1,2026-08-04\n"
)


async def _import(invoicing: Invoicing, content: str, status: int) -> dict:  # type: ignore[type-arg]
    headers = key() | {"Content-Type": "text/csv"}
    response = await invoicing.client.post(
        "/v1/lockbox-files", content=content.encode(), params={"filename": "lbx_0803.csv"}, headers=headers
    )
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_a_lockbox_file_with_unmatched_lines_imported_twice(invoicing: Invoicing) -> None:
    """acct_1: INV-1 (July, 200.00) and INV-2 (August, 300.00); acct_2: INV-3 (500.00).
    5001 pays INV-2 whole (matched); 5002 pays 250.00 of INV-3 (matched; 250.00 still due); 5003
    names only acct_1: INV-1 200.00 paid, 60.00 account credit (partly matched); 5004 names an
    unknown invoice and no account, 5005's amount does not read (unmatched, kept). The same file
    again: the first report, nothing more paid. 5004 applied by hand to acct_2: INV-3 175.00 due."""
    books = await Books(invoicing).open()
    other = await Books(invoicing, account_id="acct_2").open()
    inv_1 = await books.issue("200.00", date(2026, 7, 1))
    inv_2 = await books.issue("300.00", date(2026, 8, 1))
    inv_3 = await other.issue("500.00", date(2026, 8, 1))

    report = await _import(invoicing, FILE, 201)
    assert report["report"] == {
        "lines": 5,
        "matched": 2,
        "partly_matched": 1,
        "unmatched": 2,
        "applied_manually": 0,
    }
    lines = {line["check_number"]: line for line in report["lines"]}
    assert [(n, lines[n]["status"]) for n in ("5001", "5002", "5003", "5004", "5005")] == [
        ("5001", "matched"),
        ("5002", "matched"),
        ("5003", "partly_matched"),
        ("5004", "unmatched"),
        ("5005", "unmatched"),
    ]
    assert (
        lines["5003"]["reason"]
        == "no invoice number: applied to account acct_1's open invoices, oldest first"
    )
    assert lines["5004"]["reason"] == "invoice INV-2099-000001 is unknown; no account we know is named"
    assert lines["5005"]["reason"] == "amount 'abc' is not a positive decimal"
    assert lines["5004"]["payment_id"] is None and lines["5005"]["payment_id"] is None
    assert await books.invoice(inv_1) == ("paid", "200.00", "0.00")
    assert await books.invoice(inv_2) == ("paid", "300.00", "0.00")
    assert await books.invoice(inv_3) == ("partially_paid", "250.00", "250.00")
    by_account = await books.payment(lines["5003"]["payment_id"])
    assert (by_account["reference"], by_account["received_on"], by_account["unapplied"]) == (
        "5003",
        "2026-08-03",
        "60.00",
    )

    (imported,) = await invoicing.outbox("lockbox_file.imported")
    assert (imported["file_id"], imported["filename"], imported["lines"]) == (report["id"], "lbx_0803.csv", 5)
    assert (imported["matched"], imported["partly_matched"], imported["unmatched"]) == (2, 1, 2)
    assert [
        (p["line_number"], p["check_number"], p["payment_id"], p["account_id"], p["amount"], p["status"])
        for p in imported["payments"]
    ] == [
        (1, "5001", lines["5001"]["payment_id"], "acct_1", "300.00", "matched"),
        (2, "5002", lines["5002"]["payment_id"], "acct_2", "250.00", "matched"),
        (3, "5003", lines["5003"]["payment_id"], "acct_1", "260.00", "partly_matched"),
    ]

    again = await _import(invoicing, FILE, 200)
    assert again["already_imported"] is True
    assert (again["id"], again["report"], again["lines"]) == (report["id"], report["report"], report["lines"])
    assert await books.count_payments() == 3
    assert len(await invoicing.outbox("payment.received")) == 3
    assert len(await invoicing.outbox("lockbox_file.imported")) == 1

    path = f"/v1/lockbox-files/{report['id']}/lines/{lines['5004']['number']}/apply"
    applied = await books.post(path, {"account_id": "acct_2"}, expect=200)
    assert applied["status"] == "applied_manually" and applied["payment_id"]
    assert await books.invoice(inv_3) == ("partially_paid", "325.00", "175.00")
    twice = await invoicing.client.post(path, json={"account_id": "acct_2"}, headers=key())
    assert twice.status_code == 409
    unreadable = f"/v1/lockbox-files/{report['id']}/lines/{lines['5005']['number']}/apply"
    refused = await invoicing.client.post(unreadable, json={"account_id": "acct_1"}, headers=key())
    assert refused.status_code == 422
    stored = (await invoicing.client.get(f"/v1/lockbox-files/{report['id']}", headers=OPS)).json()
    assert stored["report"]["applied_manually"] == 1 and stored["report"]["unmatched"] == 1


async def test_a_file_that_is_not_a_lockbox_file_is_refused(invoicing: Invoicing) -> None:
    await Books(invoicing).open()
    await _import(invoicing, "check,amt\n1,2\n", 422)
    listed = await invoicing.client.get("/v1/lockbox-files", headers=OPS)
    assert listed.json()["data"] == []


async def test_example_9_statement_with_a_payment_and_a_credit_note(invoicing: Invoicing) -> None:
    """EXAMPLES §9: July's invoice of 1,000.00 brought forward; in August a payment of 600.00, a
    credit note of 50.00 and a new invoice of 300.00: 1,000.00 - 600.00 - 50.00 + 300.00 = 650.00.
    The check then bounces: + 600.00, 1,250.00 due."""
    books = await Books(invoicing, account_id="acct_9").open()
    july = await books.issue("1000.00", date(2026, 7, 15))
    payment = await books.pay("600.00", reference="CHK 9")
    note = {"invoice_id": july, "currency": "USD", "reason": "Goodwill", "lines": [{"amount": "50.00"}]}
    await books.post("/v1/credit-notes", note, expect=201)
    await books.issue("300.00", date(2026, 8, 20))

    async def statement() -> dict:  # type: ignore[type-arg]
        response = await invoicing.client.get(
            "/v1/accounts/acct_9/statements", params={"from": "2026-08-01", "to": "2026-08-31"}, headers=OPS
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    found = await statement()
    summary = found["summary"]
    assert (
        summary["previous_balance"],
        summary["payments"],
        summary["credits_and_adjustments"],
        summary["invoices"],
        summary["balance_due"],
    ) == ("1000.00", "-600.00", "-50.00", "300.00", "650.00")
    assert sorted((e["kind"], e["reference"], e["amount"]) for e in found["entries"]) == [
        ("credit_note", "CN-2026-000001", "-50.00"),
        ("invoice", "INV-2026-000002", "300.00"),
        ("payment", "CHK 9", "-600.00"),
    ]

    await books.post(f"/v1/payments/{payment['id']}/reverse", {"reason": "returned"}, expect=201)
    bounced = await statement()
    assert (bounced["summary"]["payments"], bounced["summary"]["balance_due"]) == ("0.00", "1250.00")
    september = await invoicing.client.get(
        "/v1/accounts/acct_9/statements", params={"from": "2026-09-01", "to": "2026-09-30"}, headers=OPS
    )
    assert september.json()["summary"]["previous_balance"] == "1250.00"
