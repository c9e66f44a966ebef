"""`/v1/invoices` as finance and ERP use it: JSON, HTML and PDF, finalize, void, the refusals."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from invoicing.handlers import invoices as handlers
from libs.platform.settings import Role
from tests.invoicing.factories import invoice_line
from tests.invoicing.integration.conftest import Invoicing
from tests.support.services import auth

FINANCE, ERP, OPS = auth(Role.FINANCE), auth(Role.ERP), auth(Role.OPS)


async def test_an_invoice_reads_as_json_to_the_cent(invoicing: Invoicing) -> None:
    drafted = await invoicing.draft()
    response = await invoicing.client.get(f"/v1/invoices/{drafted.invoice.id}", headers=ERP)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["number"], body["invoice_date"]) == ("draft", None, None)
    assert [
        (line["quantity"], line["unit_price"], line["amount"], line["tax_rate"], line["tax_amount"])
        for line in body["lines"]
    ] == [
        ("250", "12", "3000.00", "8.875", "266.25"),
        ("12345", "0.0075", "92.59", "8.875", "8.22"),
    ]
    assert (body["subtotal"], body["tax_total"], body["total"], body["amount_due"]) == (
        "3092.59",
        "274.47",
        "3367.06",
        "0.00",
    )


async def test_finalize_issues_the_number_and_publishes_it(invoicing: Invoicing) -> None:
    drafted = await invoicing.draft()
    headers = FINANCE | {"Idempotency-Key": "finalize-1"}
    response = await invoicing.client.post(f"/v1/invoices/{drafted.invoice.id}/finalize", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["number"]) == ("finalized", "INV-2026-000001")
    assert (body["invoice_date"], body["due_date"], body["amount_due"]) == (
        "2026-08-01",
        "2026-08-31",
        "3367.06",
    )
    replayed = await invoicing.client.post(f"/v1/invoices/{drafted.invoice.id}/finalize", headers=headers)
    assert replayed.status_code == 200 and replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json()["number"] == "INV-2026-000001"

    [published] = await invoicing.outbox("invoice.finalized")
    assert (published["number"], published["total"], published["due_date"]) == (
        "INV-2026-000001",
        "3367.06",
        "2026-08-31",
    )
    assert [line["charge_key"] for line in published["lines"]] == ["sub_1:2026-08", "ru_1"]
    assert await invoicing.audit_actions(drafted.invoice.id) == ["invoice.drafted", "invoice.finalized"]


async def test_a_finalized_invoice_is_not_edited_finalized_again_or_voided_once_paid(
    invoicing: Invoicing,
) -> None:
    drafted = await invoicing.draft()
    invoice_id = drafted.invoice.id
    ok = await invoicing.client.patch(f"/v1/invoices/{invoice_id}", json={"memo": "PO 4711"}, headers=FINANCE)
    assert ok.status_code == 200 and ok.json()["memo"] == "PO 4711"
    await invoicing.finalize(invoice_id)

    edit = await invoicing.client.patch(
        f"/v1/invoices/{invoice_id}", json={"memo": "changed"}, headers=FINANCE
    )
    again = await invoicing.client.post(f"/v1/invoices/{invoice_id}/finalize", headers=FINANCE)
    for refused in (edit, again):
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    async with invoicing.runtime.invoicing_unit_of_work() as uow:
        invoice = await handlers.get_invoice(uow=uow, invoice_id=invoice_id)
        invoice.apply_payment(Decimal("100.00"), "USD")
        await uow.invoices.save(invoice)
        await uow.commit()
    void = await invoicing.client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "x"}, headers=FINANCE
    )
    assert void.status_code == 409, void.text
    after = (await invoicing.client.get(f"/v1/invoices/{invoice_id}", headers=OPS)).json()
    assert (after["state"], after["memo"], after["amount_due"]) == ("partially_paid", "PO 4711", "3267.06")
    assert await invoicing.outbox("invoice.voided") == []


async def test_void_an_unpaid_invoice_publishes_it_and_keeps_its_number(invoicing: Invoicing) -> None:
    drafted = await invoicing.draft()
    await invoicing.finalize(drafted.invoice.id)
    response = await invoicing.client.post(
        f"/v1/invoices/{drafted.invoice.id}/void",
        json={"reason": "billed to the wrong account"},
        headers=FINANCE,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["number"]) == ("void", "INV-2026-000001")
    [voided] = await invoicing.outbox("invoice.voided")
    assert (voided["number"], voided["total"], voided["reason"]) == (
        "INV-2026-000001",
        "3367.06",
        "billed to the wrong account",
    )


async def test_unknown_ids_are_404_and_reading_roles_cannot_change(invoicing: Invoicing) -> None:
    for path in ("/v1/invoices/inv_missing", "/v1/invoices/inv_missing/pdf", "/v1/invoices/inv_missing/html"):
        assert (await invoicing.client.get(path, headers=OPS)).status_code == 404
    assert (
        await invoicing.client.post("/v1/invoices/inv_missing/finalize", headers=FINANCE)
    ).status_code == 404
    drafted = await invoicing.draft()
    assert (
        await invoicing.client.post(f"/v1/invoices/{drafted.invoice.id}/finalize", headers=OPS)
    ).status_code == 403


async def test_the_pdf_shows_number_dates_bill_to_and_total(invoicing: Invoicing) -> None:
    drafted = await invoicing.draft(
        lines=[
            invoice_line("ful_1", description="Workshop delivery <2-day>", quantity="1", unit_price="5000.00")
        ]
    )
    await invoicing.finalize(drafted.invoice.id)
    response = await invoicing.client.get(f"/v1/invoices/{drafted.invoice.id}/pdf", headers=ERP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="INV-2026-000001.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for shown in (
        "INV-2026-000001",
        "Aug 1, 2026",
        "Aug 31, 2026",
        "Acme Workforce Inc.",
        "Northwind Reseller LLC",
        "Workshop delivery <2-day>",
        "$5,000.00",
        "$443.75",
        "$5,443.75",
    ):
        assert shown in text, shown


async def test_the_html_page_escapes_what_it_shows(invoicing: Invoicing) -> None:
    drafted = await invoicing.draft(lines=[invoice_line("x", description="<script>alert(1)</script>")])
    response = await invoicing.client.get(f"/v1/invoices/{drafted.invoice.id}/html", headers=ERP)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<script>" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "Draft invoice" in response.text and "$3,266.25" in response.text


async def test_the_list_filters_by_state_and_account(invoicing: Invoicing) -> None:
    first = await invoicing.draft()
    await invoicing.draft_for("acct_2")
    await invoicing.finalize(first.invoice.id)
    response = await invoicing.client.get("/v1/invoices?state=finalized&account_id=acct_1", headers=ERP)
    assert response.status_code == 200
    assert [i["number"] for i in response.json()["data"]] == ["INV-2026-000001"]
    bad = await invoicing.client.get("/v1/invoices?state=open", headers=ERP)
    assert bad.status_code == 422
