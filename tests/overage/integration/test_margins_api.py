"""Margin per customer and month over HTTP, on SQLite and PostgreSQL: our invoices for the seed's
resold seats (three annual 36,000.00 and a July overage re-bill of 144.00) against the vendor's
(30,000.00 a year, 30,600.00 in 2027, 120.00 for July) — JSON, CSV and the SVG chart agree and add
up to the cent. Expected numbers are worked by hand (EXAMPLES §1)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest

from libs.contracts import invoicing
from tests.overage.factories import (
    annual_invoice,
    cost_book_published,
    invoice_finalized,
    invoice_line,
    price_published,
    product_changed,
    subscription_activated,
)
from tests.overage.integration.conftest import Overage
from tests.overage.integration.test_vendor_payables_api import vendor_invoice
from tests.support.services import auth

pytestmark = pytest.mark.asyncio

FINANCE = auth("finance")
RANGE = {"from": "2026-01", "to": "2028-12"}

ACME_LINES = [
    # account, period, billed, vendor, margin, percent
    ("acct_acme", "2026-03", "36000.00", "30000.00", "6000.00", "16.67"),
    ("acct_acme", "2026-07", "144.00", "120.00", "24.00", "16.67"),
    ("acct_acme", "2027-03", "36000.00", "30600.00", "5400.00", "15.00"),
    ("acct_acme", "2028-03", "36000.00", "30000.00", "6000.00", "16.67"),
]
BETA_LINE = ("acct_beta", "2026-08", "0.00", "60.00", "-60.00", None)
# 108,144.00 billed - 90,780.00 vendor = 17,364.00; 17,364 / 108,144 = 16.0563...% -> 16.06.
TOTAL = (None, "total", "108144.00", "90780.00", "17364.00", "16.06")


async def _books(overage: Overage) -> None:
    await overage.deliver(
        product_changed(),
        cost_book_published(),
        price_published(),
        subscription_activated(),
        subscription_activated("sub_other", product_id="prod_own", price_id="price_own"),
        *(
            invoice_finalized(f"inv_{y}", f"INV-{y}-000001", date(y, 3, 1), [annual_invoice(y)])
            for y in (2026, 2027, 2028)
        ),
        invoice_finalized(
            "inv_aug",
            "INV-2026-000100",
            date(2026, 8, 1),
            [
                invoice_line(
                    "overage:ocase_1:2026-07",
                    "144.00",
                    period_start=date(2026, 7, 1),
                    period_end=date(2026, 8, 1),
                    subscription_id=None,
                    quantity="12",
                    unit_price="12.00",
                    kind="one_time",
                ),
                # Our own product, not resold: no margin line.
                invoice_line(
                    "sub_other:2026-08",
                    "300.00",
                    period_start=date(2026, 8, 1),
                    period_end=date(2026, 9, 1),
                    subscription_id="sub_other",
                ),
            ],
        ),
        # Issued then voided: bills nothing.
        invoice_finalized("inv_void", "INV-2026-000101", date(2026, 3, 5), [annual_invoice(2026, "99.00")]),
        invoicing.InvoiceVoided(
            invoice_id="inv_void",
            number="INV-2026-000101",
            account_id="acct_acme",
            currency="USD",
            total="99.00",
            voided_at="2026-03-06T10:00:00Z",
        ),
    )
    for body in (
        vendor_invoice(2026),
        vendor_invoice(2027, "30600.00"),
        vendor_invoice(2028),
        vendor_invoice(
            number="MON-OVG-2026-07",
            kind="overage",
            overage_case_id="ocase_1",
            amount="120.00",
            invoice_date="2026-08-03",
            period_start="2026-07-01",
            period_end="2026-08-01",
        ),
        vendor_invoice(
            number="MON-OVG-2026-08-B",
            kind="overage",
            subscription_id=None,
            account_id="acct_beta",
            overage_case_id="ocase_2",
            amount="60.00",
            invoice_date="2026-09-02",
            period_start="2026-08-01",
            period_end="2026-09-01",
        ),
    ):
        answer = await overage.client.post("/v1/vendor-invoices", json=body, headers=FINANCE)
        assert answer.status_code == 201, answer.text


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


async def test_margins_per_customer_and_month_add_up(overage: Overage) -> None:
    await _books(overage)
    answer = await overage.client.get("/v1/margins", params=RANGE, headers=FINANCE)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["from"], report["to"], report["account_id"]) == ("2026-01", "2028-12", None)
    lines = _rows(report["lines"])
    assert lines == [ACME_LINES[0], ACME_LINES[1], BETA_LINE, ACME_LINES[2], ACME_LINES[3]]
    assert _rows(report["totals"]) == [TOTAL]
    assert {line["currency"] for line in report["lines"]} == {"USD"}
    # Each line: billed - vendor = margin; the total is the sum of the lines.
    for _, _, billed, vendor, margin, _ in lines:
        assert Decimal(billed) - Decimal(vendor) == Decimal(margin)
    for column in (2, 3, 4):
        assert sum(Decimal(line[column]) for line in lines) == Decimal(str(TOTAL[column]))

    one = await overage.client.get(
        "/v1/margins", params={**RANGE, "account_id": "acct_acme"}, headers=FINANCE
    )
    assert _rows(one.json()["lines"]) == ACME_LINES
    # 108,144.00 - 90,720.00 = 17,424.00; 16.1118...% -> 16.11.
    assert _rows(one.json()["totals"]) == [(None, "total", "108144.00", "90720.00", "17424.00", "16.11")]

    march = await overage.client.get(
        "/v1/margins", params={"from": "2027-03", "to": "2027-03"}, headers=auth("ops")
    )
    assert _rows(march.json()["lines"]) == [ACME_LINES[2]]


async def test_the_csv_has_the_same_rows_and_totals(overage: Overage) -> None:
    await _books(overage)
    answer = await overage.client.get("/v1/margins", params={**RANGE, "format": "csv"}, headers=FINANCE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == [
        "account_id",
        "period",
        "currency",
        "billed_to_customer",
        "billed_by_vendor",
        "margin",
        "margin_percent",
    ]
    expected = [*ACME_LINES[:2], BETA_LINE, *ACME_LINES[2:], TOTAL]
    assert [(r[0] or None, r[1], r[3], r[4], r[5], r[6] or None) for r in rows[1:]] == expected
    assert {r[2] for r in rows[1:]} == {"USD"}
    body = rows[1:-1]
    for column in (3, 4, 5):
        assert sum(Decimal(r[column]) for r in body) == Decimal(rows[-1][column])


async def test_the_chart_is_an_svg(overage: Overage, tmp_path: Any) -> None:
    await _books(overage)
    answer = await overage.client.get("/v1/margins.svg", params=RANGE, headers=FINANCE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(answer.content)
    assert root.tag.endswith("svg")
    text = answer.text
    assert "Billed to customer" in text and "Billed by vendor" in text and "Margin" in text
    assert "margin 17,364.00 (16.06%)" in text
    empty = await overage.client.get(
        "/v1/margins.svg", params={"from": "2030-01", "to": "2030-03"}, headers=FINANCE
    )
    assert empty.status_code == 200
    assert ElementTree.fromstring(empty.content).tag.endswith("svg")


async def test_bad_months_are_refused(overage: Overage) -> None:
    for params in (
        {"from": "2026-13", "to": "2027-01"},
        {"from": "2026-05", "to": "2026-04"},
        {"from": "2016-01", "to": "2026-02"},
        {"from": "202603", "to": "2026-04"},
        {"to": "2026-04"},
        {**RANGE, "format": "xml"},
        {**RANGE, "account_id": "bad id!"},
    ):
        answer = await overage.client.get("/v1/margins", params=params, headers=FINANCE)
        assert answer.status_code == 422, (params, answer.text)
    chart = await overage.client.get("/v1/margins.svg", params={**RANGE, "currency": "ZZZ"}, headers=FINANCE)
    assert chart.status_code == 422


async def test_a_credit_note_on_a_resold_line_bills_less_for_its_month(overage: Overage) -> None:
    await _books(overage)
    credit = invoicing.CreditNoteIssued(
        credit_note_id="cn_1",
        number="CN-2028-000001",
        invoice_id="inv_2028",
        invoice_number="INV-2028-000001",
        account_id="acct_acme",
        customer_id="cus_acme",
        currency="USD",
        note_date=date(2028, 4, 10),
        reason="10 seats billed twice",
        lines=[
            invoicing.CreditNoteLinePayload(
                charge_key="sub_wfm:2028-03",
                description="seats",
                amount="1000.00",
                tax_rate="0",
                tax_amount="0.00",
            ),
            # Against the whole invoice: no line, so no month to put it in.
            invoicing.CreditNoteLinePayload(
                description="goodwill", amount="5.00", tax_rate="0", tax_amount="0.00"
            ),
        ],
        subtotal="1005.00",
        tax_total="0.00",
        total="1005.00",
        invoice_credited="1005.00",
        invoice_amount_due="34995.00",
        invoice_state="finalized",
        account_credit="0.00",
        issued_at="2028-04-10T10:00:00Z",
    )
    await overage.deliver(credit, credit)  # redelivered: credited once
    answer = await overage.client.get(
        "/v1/margins", params={"from": "2028-03", "to": "2028-04", "account_id": "acct_acme"}, headers=FINANCE
    )
    # 36,000.00 - 1,000.00 = 35,000.00 billed; - 30,000.00 = 5,000.00; 5,000 / 35,000 = 14.2857% -> 14.29.
    assert _rows(answer.json()["lines"]) == [
        ("acct_acme", "2028-03", "35000.00", "30000.00", "5000.00", "14.29")
    ]
