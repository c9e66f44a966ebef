"""Revenue recognition and the general ledger on a real database (SQLite and PostgreSQL), driven by
the ledger's postings of invoicing's events and read through the API, to the cent:
- EXAMPLES §1, three 36,000.00 invoices a year in advance, deferred and recognised month by month;
- a credit note reversing recognised and deferred revenue;
- an invoice, a partial payment, an overpayment, a refund, a bounced check, a write-off and a void
  balancing in the journal and the trial balance; a replayed event changes nothing;
- bad input refused with 4xx."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime
from invoicing.handlers import ledger_postings
from libs.contracts.catalog import ProductChanged
from libs.contracts.envelope import EventPayload
from libs.platform.audit import AuditRecord
from libs.platform.clock import FixedClock
from libs.platform.settings import Role
from tests.invoicing.factories_ledger import (
    balances,
    credit_note_issued,
    invoice_finalized,
    invoice_line,
    invoice_voided,
    invoice_written_off,
    payment_received,
    payment_refunded,
    payment_reversed,
)
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import product_changed
from tests.support.services import auth, running_app

FINANCE, ERP, OPS = auth(Role.FINANCE), auth(Role.ERP), auth(Role.OPS)
MARCH_2029 = FixedClock(datetime(2029, 3, 5, 12, tzinfo=UTC))

POSTINGS: dict[str, Callable[..., Awaitable[object]]] = {
    "InvoiceFinalized": ledger_postings.post_invoice_finalized,
    "InvoiceVoided": ledger_postings.post_invoice_voided,
    "CreditNoteIssued": ledger_postings.post_credit_note,
    "PaymentReceived": ledger_postings.post_payment_received,
    "PaymentRefunded": ledger_postings.post_payment_refunded,
    "PaymentReversed": ledger_postings.post_payment_reversed,
    "InvoiceWrittenOff": ledger_postings.post_invoice_written_off,
}


class Ledger:
    """The service under test and what the `invoicing.ledger` consumer would do with each event."""

    def __init__(self, runtime: InvoicingRuntime, client: httpx.AsyncClient) -> None:
        self.runtime, self.client = runtime, client

    async def post(self, *events: EventPayload) -> None:
        for event in events:
            async with self.runtime.invoicing_unit_of_work() as uow:
                if isinstance(event, ProductChanged):
                    from invoicing.handlers.billing_inputs import apply_product_changed

                    await apply_product_changed(uow=uow, event=event, occurred_at=MARCH_2029.now())
                    continue
                await POSTINGS[type(event).__name__](uow=uow, event=event, chart=self.runtime.chart)

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=OPS)
        assert response.status_code == 200, response.text
        return response.json()

    async def recognise(self, month: str) -> Any:
        response = await self.client.post(
            "/v1/revenue/recognition-runs", json={"month": month}, headers=FINANCE
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def trial_balance(self, as_of: str) -> Any:
        found = await self.get("/v1/gl/trial-balance", as_of=as_of)
        assert all(Decimal(total["balance"]) == 0 for total in found["totals"]), found
        return found


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[Ledger]:
    app = create_app(invoicing_settings(database_url), clock=MARCH_2029)
    async with running_app(app) as client:
        yield Ledger(app.state.runtime, client)


def _seats(year: int) -> Any:
    start, end = date(year, 3, 1), date(year + 1, 3, 1)
    return invoice_finalized(
        f"inv_{year}",
        f"INV-{year}-000001",
        start,
        [invoice_line(f"recurring:sub_1:{start}", "36000.00", period=(start, end))],
    )


def _month_rows(waterfall: Any) -> list[tuple[str, str, str, str, str]]:
    return [
        (m["month"], m["deferred_opening"], m["billed"], m["recognized"], m["deferred_closing"])
        for m in waterfall["currencies"][0]["months"]
    ]


async def test_a_three_year_contract_annual_in_advance_is_deferred_and_recognised_month_by_month(
    ledger: Ledger,
) -> None:
    await ledger.post(
        product_changed("prod_seats", revenue_rule="ratable"), _seats(2026), _seats(2027), _seats(2028)
    )

    schedules = await ledger.get("/v1/revenue-schedules", account_id="acct_1")
    assert [(s["invoice_number"], s["rule"], s["amount"], len(s["months"])) for s in schedules["data"]] == [
        ("INV-2026-000001", "ratable", "36000.00", 12),
        ("INV-2027-000001", "ratable", "36000.00", 12),
        ("INV-2028-000001", "ratable", "36000.00", 12),
    ]
    first = await ledger.get(f"/v1/revenue-schedules/{schedules['data'][0]['id']}")
    # 31-day months 36,000 x 31/365 = 3,057.53; 30-day 2,958.90; February 2027 the rest, 2,761.69.
    assert [(m["month"], m["amount"]) for m in first["months"]][:3] == [
        ("2026-03", "3057.53"),
        ("2026-04", "2958.90"),
        ("2026-05", "3057.53"),
    ]
    assert first["months"][-1] == {
        "month": "2027-02",
        "recognize_on": "2027-02-28",
        "amount": "2761.69",
        "posted": False,
    }

    # On the invoice: Dr A/R 36,000.00, Cr deferred revenue 36,000.00; nothing recognised yet.
    assert balances(await ledger.trial_balance("2026-03-01")) == {"1100": "36000.00", "2400": "-36000.00"}

    march = await ledger.recognise("2026-03")
    assert [(p["currency"], p["amount"], p["schedule_months"]) for p in march["posted"]] == [
        ("USD", "3057.53", 1)
    ]
    again = await ledger.recognise("2026-03")
    assert again["posted"] == []
    assert again["recognized"] == [{"currency": "USD", "amount": "3057.53"}]
    assert balances(await ledger.trial_balance("2026-03-31")) == {
        "1100": "36000.00",
        "2400": "-32942.47",
        "4000": "-3057.53",
    }

    for year in (2026, 2027, 2028):
        for month in range(1, 13):
            if (year, month) > (2026, 3):
                await ledger.recognise(f"{year}-{month:02d}")
    for month in ("2029-01", "2029-02"):
        await ledger.recognise(month)

    waterfall = await ledger.get("/v1/revenue/waterfall", **{"from": "2026-03", "to": "2026-05"})
    assert _month_rows(waterfall) == [
        ("2026-03", "0.00", "36000.00", "3057.53", "32942.47"),
        ("2026-04", "32942.47", "0.00", "2958.90", "29983.57"),
        ("2026-05", "29983.57", "0.00", "3057.53", "26926.04"),
    ]
    # February 2027 closes year 1; the second year (with 29 February 2028, 366 days) opens.
    waterfall = await ledger.get(
        "/v1/revenue/waterfall", **{"from": "2027-02", "to": "2027-03", "currency": "USD"}
    )
    assert _month_rows(waterfall) == [
        ("2027-02", "2761.69", "0.00", "2761.69", "0.00"),
        ("2027-03", "0.00", "36000.00", "3049.18", "32950.82"),
    ]
    waterfall = await ledger.get("/v1/revenue/waterfall", **{"from": "2029-02", "to": "2029-03"})
    assert _month_rows(waterfall) == [
        ("2029-02", "2761.69", "0.00", "2761.69", "0.00"),
        ("2029-03", "0.00", "0.00", "0.00", "0.00"),
    ]

    # Three years later: everything billed is revenue, nothing deferred.
    assert balances(await ledger.trial_balance("2029-02-28")) == {
        "1100": "108000.00",
        "2400": "0.00",
        "4000": "-108000.00",
    }

    exported = await ledger.client.get(
        "/v1/revenue/waterfall", params={"from": "2026-03", "to": "2026-04", "format": "csv"}, headers=ERP
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines() == [
        "currency,month,deferred_opening,billed,recognized,deferred_closing",
        "USD,2026-03,0.00,36000.00,3057.53,32942.47",
        "USD,2026-04,32942.47,0.00,2958.90,29983.57",
    ]
    chart = await ledger.client.get(
        "/v1/revenue/waterfall.svg", params={"from": "2026-03", "to": "2029-02"}, headers=OPS
    )
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in chart.content and b"Deferred revenue waterfall (USD)" in chart.content

    journal = await ledger.client.get(
        "/v1/gl/journal", params={"from": "2026-03-01", "to": "2026-03-31", "format": "csv"}, headers=ERP
    )
    rows = list(csv.DictReader(io.StringIO(journal.text)))
    assert [(r["kind"], r["gl_account"], r["debit"], r["credit"]) for r in rows] == [
        ("invoice", "1100", "36000.00", "0.00"),
        ("invoice", "2400", "0.00", "36000.00"),
        ("recognition", "2400", "3057.53", "0.00"),
        ("recognition", "4000", "0.00", "3057.53"),
    ]


async def test_a_credit_note_reverses_recognised_and_deferred_revenue(ledger: Ledger) -> None:
    invoice = _seats(2026)
    await ledger.post(product_changed("prod_seats", revenue_rule="ratable"), invoice)
    for month in ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"):
        await ledger.recognise(month)
    # A third credited on 2026-09-15: March-August recognised 18,147.92, a third of it 6,049.31 is
    # reversed from revenue; 5,950.69 comes off the deferred months September-February.
    await ledger.post(
        credit_note_issued(
            "cn_000001", invoice, date(2026, 9, 15), [(invoice.lines[0].charge_key, "12000.00", "0.00")]
        )
    )
    journal = await ledger.get("/v1/gl/journal", **{"from": "2026-09-01", "to": "2026-09-30"})
    assert [(e["kind"], e["source_id"]) for e in journal["data"]] == [("credit_note", "cn_000001")]
    assert [(line["account"], line["debit"], line["credit"]) for line in journal["data"][0]["lines"]] == [
        ("4000", "6049.31", "0.00"),
        ("2400", "5950.69", "0.00"),
        ("1100", "0.00", "12000.00"),
    ]
    schedule = (await ledger.get("/v1/revenue-schedules", invoice_id="inv_2026"))["data"][0]
    assert schedule["credited"] == "12000.00"
    assert {m["month"]: m["amount"] for m in schedule["months"]}["2026-09"] == "1972.60"
    assert {m["month"]: m["amount"] for m in schedule["months"]}["2027-02"] == "1841.14"

    # September: 17,852.08 deferred at its opening; billed -12,000.00; recognised 1,972.60 - 6,049.31.
    waterfall = await ledger.get("/v1/revenue/waterfall", **{"from": "2026-09", "to": "2026-10"})
    assert _month_rows(waterfall) == [
        ("2026-09", "17852.08", "-12000.00", "-4076.71", "9928.79"),
        ("2026-10", "9928.79", "0.00", "2038.35", "7890.44"),
    ]
    await ledger.recognise("2026-09")
    # Revenue: 18,147.92 + 1,972.60 - 6,049.31 = 14,071.21; deferred what the months to come hold.
    assert balances(await ledger.trial_balance("2026-09-30")) == {
        "1100": "24000.00",
        "2400": "-9928.79",
        "4000": "-14071.21",
    }


async def test_payments_refunds_reversals_write_offs_and_voids_balance_and_a_replay_changes_nothing(
    ledger: Ledger,
) -> None:
    # 1,000.00 of a workshop recognised on the invoice, with 8.75 % tax: 1,087.50.
    workshop = invoice_finalized(
        "inv_1",
        "INV-2026-000001",
        date(2026, 8, 1),
        [
            invoice_line(
                "fulfillment:ful_1:1",
                "1000.00",
                period=(date(2026, 8, 1), date(2026, 8, 2)),
                product_id="prod_workshop",
                kind="fulfillment",
                tax="87.50",
            )
        ],
    )
    support = invoice_finalized(
        "inv_2",
        "INV-2026-000002",
        date(2026, 8, 1),
        [
            invoice_line(
                "one_time:chg_1",
                "200.00",
                period=(date(2026, 8, 1), date(2026, 8, 2)),
                kind="one_time",
                product_id=None,
            )
        ],
    )
    billed_in_error = invoice_finalized(
        "inv_3",
        "INV-2026-000003",
        date(2026, 8, 3),
        [
            invoice_line(
                "one_time:chg_2",
                "300.00",
                period=(date(2026, 8, 3), date(2026, 8, 4)),
                kind="one_time",
                product_id=None,
            )
        ],
    )
    events: list[EventPayload] = [
        product_changed("prod_workshop", revenue_rule="on_fulfillment", kind="workshop"),
        workshop,
        support,
        billed_in_error,
        invoice_voided(billed_in_error, date(2026, 8, 4)),
        payment_received("pay_1", "500.00", date(2026, 8, 5), [("inv_1", "500.00")]),
        # Overpaid: 587.50 closes the invoice, 112.50 stays as the account's credit.
        payment_received("pay_2", "700.00", date(2026, 8, 10), [("inv_1", "587.50")], unapplied="112.50"),
        payment_refunded("ref_1", "pay_2", "112.50", date(2026, 8, 12), allocations=[], credit_used="112.50"),
        # A 50.00 check on the support invoice bounces.
        payment_received("pay_3", "50.00", date(2026, 8, 14), [("inv_2", "50.00")]),
        payment_reversed("pay_3", "50.00", date(2026, 8, 18), allocations=[("inv_2", "50.00")]),
        invoice_written_off(support, "200.00", date(2026, 8, 20)),
    ]
    await ledger.post(*events)
    # The workshop's rule came from the catalog's product (kept by the read model).
    workshop_schedules = (await ledger.get("/v1/revenue-schedules", product_id="prod_workshop"))["data"]
    assert [(s["rule"], s["months"][0]["posted"]) for s in workshop_schedules] == [("on_fulfillment", True)]

    expected = {
        "1000": "1087.50",  # 500.00 + 700.00 - 112.50 + 50.00 - 50.00
        "1100": "0.00",  # 1,087.50 + 200.00 + 300.00 - 300.00 - 500.00 - 587.50 - 50.00 + 50.00 - 200.00
        "2200": "-87.50",
        "2300": "0.00",  # 112.50 kept, then refunded
        "4000": "-1200.00",  # the workshop and the support charge; the void took its 300.00 back
        "6100": "200.00",
    }
    trial = await ledger.trial_balance("2026-08-31")
    assert balances(trial) == expected
    # Debits: cash 500.00 + 700.00 + 50.00, A/R 1,087.50 + 200.00 + 300.00 + 50.00, customer credit
    # 112.50, revenue 300.00 (the void), bad debt 200.00 = 3,500.00; the credits the same.
    assert trial["totals"] == [
        {"currency": "USD", "debit": "3500.00", "credit": "3500.00", "balance": "0.00"}
    ]
    assert balances(await ledger.trial_balance("2026-08-11")) == {
        "1000": "1200.00",
        "1100": "200.00",
        "2200": "-87.50",
        "2300": "-112.50",
        "4000": "-1200.00",
    }

    journal = await ledger.get("/v1/gl/journal", **{"from": "2026-08-01", "to": "2026-08-31", "limit": 3})
    assert journal["has_more"] is True
    kinds: list[str] = [e["kind"] for e in journal["data"]]
    while journal["has_more"]:
        journal = await ledger.get(
            "/v1/gl/journal",
            **{"from": "2026-08-01", "to": "2026-08-31", "limit": 3, "cursor": journal["next_cursor"]},
        )
        kinds += [e["kind"] for e in journal["data"]]
    assert kinds == [
        "invoice",
        "invoice",
        "invoice",
        "invoice_void",
        "payment",
        "payment",
        "refund",
        "payment",
        "reversal",
        "write_off",
    ]

    # Every event again (a redelivery past the inbox, a republish): nothing moves.
    await ledger.post(*events)
    assert balances(await ledger.trial_balance("2026-08-31")) == expected
    exported = await ledger.client.get(
        "/v1/gl/journal",
        params={"from": "2026-08-01", "to": "2026-08-31"},
        headers={**ERP, "Accept": "text/csv"},
    )
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 22
    async with ledger.runtime.db.session() as session:
        audited = (
            await session.exec(select(AuditRecord).where(col(AuditRecord.action) == "journal_entry.posted"))
        ).all()
    assert sorted(json.loads(record.changes)["kind"] for record in audited) == sorted(kinds)


BAD_QUERIES: list[tuple[str, dict[str, str]]] = [
    ("/v1/revenue/waterfall", {"from": "2026-05", "to": "2026-04"}),
    ("/v1/revenue/waterfall", {"from": "2026-13", "to": "2027-01"}),
    ("/v1/revenue/waterfall", {"from": "2026-1", "to": "2026-02"}),
    ("/v1/revenue/waterfall", {"from": "2000-01", "to": "2026-02"}),
    ("/v1/revenue/waterfall", {"to": "2026-02"}),
    ("/v1/revenue/waterfall", {"from": "2026-01", "to": "2026-02", "currency": "usd"}),
    ("/v1/revenue/waterfall.svg", {"from": "2026-03", "to": "2026-02"}),
    ("/v1/gl/journal", {"from": "2026-08-31", "to": "2026-08-01"}),
    ("/v1/gl/journal", {"from": "2026-02-30", "to": "2026-03-01"}),
    ("/v1/gl/trial-balance", {"as_of": "yesterday"}),
    ("/v1/gl/trial-balance", {}),
    ("/v1/revenue-schedules", {"account_id": "acct 1"}),
]


async def test_bad_input_is_a_4xx(ledger: Ledger) -> None:
    for path, params in BAD_QUERIES:
        response = await ledger.client.get(path, params=params, headers=OPS)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_bad_recognition_runs_and_unknown_schedules(ledger: Ledger) -> None:
    for body in (
        {"month": "2029-03"},
        {"month": "2029-13"},
        {"month": 202603},
        {},
        {"month": "2026-03", "x": 1},
    ):
        response = await ledger.client.post("/v1/revenue/recognition-runs", json=body, headers=FINANCE)
        assert response.status_code == 422, (body, response.text)
    forbidden = await ledger.client.post(
        "/v1/revenue/recognition-runs", json={"month": "2026-03"}, headers=OPS
    )
    assert forbidden.status_code == 403
    assert (await ledger.client.get("/v1/revenue-schedules/rsch_nope", headers=OPS)).status_code == 404
    assert (await ledger.get("/v1/gl/trial-balance", as_of="2026-01-01"))["accounts"] == []
