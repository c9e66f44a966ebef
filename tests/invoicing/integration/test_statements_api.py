"""`/v1/accounts/{id}/statements` on SQLite and PostgreSQL, over invoices issued and voided through
the invoice handlers: the previous balance, the period's entries with their running balance, the
balance due, in the account's dates; the HTML and PDF; 404 and 422."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Column, Date, MetaData, String, Table, cast, func, insert, literal, null, select

from invoicing.app import create_app
from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.invoices import RunKind
from invoicing.domain.statements import EntryKind
from invoicing.handlers import invoices as handlers
from invoicing.handlers.statements import statement_for
from invoicing.models.invoices import InvoiceRow
from invoicing.repository.statements import LEDGER_SOURCES, ActivityScope, LedgerSource, SqlAccountLedger
from libs.platform.db import ExactDecimal, UtcDateTime
from libs.platform.settings import Role
from tests.invoicing.factories import billing_account, invoice_line
from tests.invoicing.integration.conftest import Invoicing, invoicing_settings
from tests.support.services import auth, running_app

ERP = auth(Role.ERP)
NEW_YORK = billing_account("acct_1")
JULY = (date(2026, 7, 1), date(2026, 8, 1))
AUGUST = (date(2026, 8, 1), date(2026, 9, 1))


@dataclass
class MovingClock:
    """A clock tests move: voids happen when they say."""

    at: datetime

    def now(self) -> datetime:
        return self.at.astimezone(UTC)


@dataclass
class Ledger:
    invoicing: Invoicing
    clock: MovingClock

    async def open(self, account: BillingAccount) -> None:
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            await uow.billing_inputs.save_account(account, event_at=datetime(2026, 1, 1, tzinfo=UTC))
            await uow.commit()

    async def issue(
        self,
        key: str,
        *,
        on: date,
        quantity: str = "100",
        period: tuple[date, date] = JULY,
        account: BillingAccount = NEW_YORK,
        currency: str = "USD",
        finalize: bool = True,
    ) -> str:
        """An invoice of one line (quantity x 10.00, no tax) issued on `on`; its id."""
        line = invoice_line(
            key,
            quantity=quantity,
            unit_price="10.00",
            tax_rate="0",
            currency=currency,
            account_id=account.account_id,
            period=period,
        )
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            drafted = await handlers.draft_invoice(
                uow=uow,
                account=account,
                currency=currency,
                period_start=period[0],
                period_end=period[1],
                lines=[line],
                run_kind=RunKind.ON_DEMAND,
                run_source_id=key,
            )
        if finalize:
            async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
                await handlers.finalize_invoice(uow=uow, invoice_id=drafted.invoice.id, invoice_date=on)
        return drafted.invoice.id

    async def void(self, invoice_id: str, at: datetime) -> None:
        self.clock.at = at
        async with self.invoicing.runtime.invoicing_unit_of_work() as uow:
            await handlers.void_invoice(uow=uow, invoice_id=invoice_id, reason="billed twice")

    async def statement(self, account_id: str = "acct_1", **query: str) -> Any:
        params = {"from": "2026-08-01", "to": "2026-08-31"} | query
        response = await self.invoicing.client.get(
            f"/v1/accounts/{account_id}/statements", params=params, headers=ERP
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[Ledger]:
    clock = MovingClock(datetime(2026, 9, 2, 14, tzinfo=UTC))
    app = create_app(invoicing_settings(database_url), clock=clock)
    async with running_app(app) as client:
        ledger = Ledger(Invoicing(app, client), clock)
        await ledger.open(NEW_YORK)
        yield ledger


async def test_previous_balance_entries_and_balance_due_add_up(ledger: Ledger) -> None:
    await ledger.issue("june", on=date(2026, 6, 30), quantity="100", period=(date(2026, 6, 1), JULY[0]))
    july = await ledger.issue("july", on=date(2026, 7, 1), quantity="20")
    voided_in_july = await ledger.issue("dup-july", on=date(2026, 7, 2), quantity="7")
    await ledger.void(voided_in_july, datetime(2026, 7, 20, 15, tzinfo=UTC))
    voided_in_august = await ledger.issue("dup-july-2", on=date(2026, 7, 3), quantity="5")
    # 23:30 in New York on August 31 is September 1 in UTC: it counts in August.
    await ledger.void(voided_in_august, datetime(2026, 9, 1, 3, 30, tzinfo=UTC))
    august = await ledger.issue("august", on=date(2026, 8, 1), quantity="30", period=AUGUST)
    await ledger.issue("draft", on=date(2026, 8, 2), period=AUGUST, finalize=False)
    await ledger.issue("september", on=date(2026, 9, 1), quantity="1", period=(AUGUST[1], date(2026, 10, 1)))

    body = await ledger.statement()

    assert (body["account_name"], body["currency"], body["period_start"], body["period_end"]) == (
        "Acme Workforce Inc.",
        "USD",
        "2026-08-01",
        "2026-08-31",
    )
    # June 1,000.00 + July 200.00 + 50.00 (voided only in August); the July void nets to zero.
    assert body["summary"] == {
        "previous_balance": "1250.00",
        "payments": "0.00",
        "credits_and_adjustments": "0.00",
        "invoices": "250.00",
        "balance_due": "1500.00",
    }
    assert [
        (e["date"], e["kind"], e["document_id"], e["amount"], e["balance"], e["due_date"])
        for e in body["entries"]
    ] == [
        ("2026-08-01", "invoice", august, "300.00", "1550.00", "2026-08-31"),
        ("2026-08-31", "invoice_void", voided_in_august, "-50.00", "1500.00", "2026-08-02"),
    ]
    assert body["entries"][1]["description"] == "billed twice"
    assert body["entries"][0]["reference"].startswith("INV-2026-")
    assert body["totals"] == [
        {"kind": "invoice", "amount": "300.00", "count": 1},
        {"kind": "invoice_void", "amount": "-50.00", "count": 1},
    ]
    # The next statement opens with the balance this one closed with; July's shows the void in July.
    september = await ledger.statement(**{"from": "2026-09-01", "to": "2026-09-30"})
    assert (september["summary"]["previous_balance"], september["summary"]["balance_due"]) == (
        "1500.00",
        "1510.00",
    )
    july_statement = await ledger.statement(**{"from": "2026-07-01", "to": "2026-07-31"})
    assert [(e["kind"], e["amount"]) for e in july_statement["entries"]] == [
        ("invoice", "200.00"),
        ("invoice", "70.00"),
        ("invoice", "50.00"),
        ("invoice_void", "-70.00"),
    ]
    assert july_statement["entries"][0]["document_id"] == july
    assert july_statement["summary"]["balance_due"] == "1250.00"


async def test_a_statement_is_per_account_and_currency(ledger: Ledger) -> None:
    other = billing_account("acct_2", name="Globex")
    await ledger.open(other)
    await ledger.issue("mine", on=date(2026, 8, 3), quantity="10", period=AUGUST)
    await ledger.issue("theirs", on=date(2026, 8, 3), quantity="99", period=AUGUST, account=other)
    await ledger.issue("euro", on=date(2026, 8, 4), quantity="3", period=AUGUST, currency="EUR")

    assert (await ledger.statement())["summary"]["balance_due"] == "100.00"
    in_euro = await ledger.statement(currency="EUR")
    assert (in_euro["currency"], in_euro["summary"]["balance_due"]) == ("EUR", "30.00")
    assert (await ledger.statement("acct_2"))["summary"]["balance_due"] == "990.00"


async def test_a_child_billed_to_its_parent_points_to_the_parent(ledger: Ledger) -> None:
    child = billing_account("acct_child", parent_account_id="acct_1", bills_to_parent=True)
    await ledger.open(child)
    # The bill run merges the child's charges into the parent's invoice: it is the parent's debt.
    await ledger.issue("child-seats", on=date(2026, 8, 5), quantity="4", period=AUGUST)

    parent, of_child = await ledger.statement(), await ledger.statement("acct_child")
    assert parent["summary"]["balance_due"] == "40.00"
    assert (of_child["bills_to_account_id"], of_child["entries"], of_child["summary"]["balance_due"]) == (
        "acct_1",
        [],
        "0.00",
    )


async def test_the_pdf_and_html_show_the_balance_due(ledger: Ledger) -> None:
    await ledger.issue("june", on=date(2026, 6, 30), quantity="100", period=(date(2026, 6, 1), JULY[0]))
    await ledger.issue("august", on=date(2026, 8, 1), quantity="30", period=AUGUST)
    params = {"from": "2026-08-01", "to": "2026-08-31"}

    pdf = await ledger.invoicing.client.get("/v1/accounts/acct_1/statements/pdf", params=params, headers=ERP)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="statement-acct_1-2026-08-31.pdf"' in pdf.headers["content-disposition"]
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages
    )
    for shown in (
        "STATEMENT",
        "Acme Workforce Inc.",
        "Previous balance",
        "$1,000.00",
        "New invoices",
    ):
        assert shown in text
    assert "Balance due $1,300.00" in text and "INV-2026-000002 Invoice (due Aug 31, 2026) $300.00" in text

    html = await ledger.invoicing.client.get(
        "/v1/accounts/acct_1/statements/html", params=params, headers=ERP
    )
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "Balance brought forward" in html.text and "$1,300.00" in html.text


async def test_a_german_account_gets_its_statement_in_german_formats(ledger: Ledger) -> None:
    berlin = billing_account("acct_de", locale="de_DE")
    await ledger.open(berlin)
    await ledger.issue(
        "de-june", on=date(2026, 6, 30), quantity="100", period=(date(2026, 6, 1), JULY[0]), account=berlin
    )
    await ledger.issue("de-august", on=date(2026, 8, 1), quantity="23.456", period=AUGUST, account=berlin)
    params = {"from": "2026-08-01", "to": "2026-08-31"}

    html = await ledger.invoicing.client.get(
        "/v1/accounts/acct_de/statements/html", params=params, headers=ERP
    )
    assert html.status_code == 200
    # 100 x 10.00 brought forward, then 23.456 x 10.00 = 234.56: 1,234.56 due, written the German way.
    assert "1.234,56" in html.text and "1.000,00" in html.text and "01.08.2026" in html.text
    assert "1,234.56" not in html.text and "Aug 1, 2026" not in html.text

    pdf = await ledger.invoicing.client.get("/v1/accounts/acct_de/statements/pdf", params=params, headers=ERP)
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "1.234,56" in text and "31.08.2026" in text and "1,234.56" not in text


async def test_unknown_account_is_404_and_a_bad_range_is_422(ledger: Ledger) -> None:
    client = ledger.invoicing.client
    for suffix in ("", "/html", "/pdf"):
        missing = await client.get(f"/v1/accounts/acct_missing/statements{suffix}", headers=ERP)
        assert missing.status_code == 404, missing.text
        assert missing.headers["content-type"].startswith("application/problem+json")
    for params in (
        {"from": "2026-09-01", "to": "2026-08-31"},
        {"from": "2020-01-01", "to": "2025-01-01"},
        {"from": "2026-08-01T00:00:00Z"},
        {"currency": "usd"},
    ):
        refused = await client.get("/v1/accounts/acct_1/statements", params=params, headers=ERP)
        assert refused.status_code == 422, (params, refused.text)
    five_years = await client.get(
        "/v1/accounts/acct_1/statements", params={"from": "2020-01-01", "to": "2024-12-31"}, headers=ERP
    )
    assert five_years.status_code == 200, five_years.text


async def test_the_default_period_is_this_month_to_date(ledger: Ledger) -> None:
    body = await ledger.invoicing.client.get("/v1/accounts/acct_1/statements", headers=ERP)
    assert (body.json()["period_start"], body.json()["period_end"]) == ("2026-09-01", "2026-09-02")


async def test_ten_thousand_earlier_invoices_sum_in_the_database(ledger: Ledger) -> None:
    """The previous balance of a long history is one aggregate, exact to the cent."""
    rows = [_invoice_row(n, date(2020, 1, 1) + timedelta(days=n % 2000)) for n in range(10_000)]
    async with ledger.invoicing.runtime.db.session() as session:
        await session.exec(insert(InvoiceRow), params=rows)  # type: ignore[call-overload]
        await session.commit()
    await ledger.issue("august", on=date(2026, 8, 1), quantity="30", period=AUGUST)

    started = time.perf_counter()
    async with ledger.invoicing.runtime.invoicing_unit_of_work() as uow:
        found = await statement_for(
            uow=uow, account_id="acct_1", from_=date(2026, 8, 1), to=date(2026, 8, 31)
        )
    elapsed = time.perf_counter() - started
    print(f"statement over 10,000 earlier invoices: {elapsed * 1000:.0f} ms")

    assert found.statement.previous_balance == Decimal("12345700.00")  # 10,000 x 1,234.57
    assert found.statement.balance_due == Decimal("12346000.00")
    assert len(found.statement.lines) == 1
    assert elapsed < 2, f"a statement over 10,000 invoices took {elapsed:.2f}s"


def _invoice_row(n: int, on: date) -> dict[str, Any]:
    at = datetime(2020, 1, 1, tzinfo=UTC)
    return {
        "id": f"inv_bulk_{n:05d}",
        "account_id": "acct_1",
        "customer_id": "cus_1",
        "currency": "USD",
        "period_start": on,
        "period_end": on + timedelta(days=1),
        "run_kind": "on_demand",
        "run_source_id": f"bulk-{n}",
        "state": "finalized",
        "bill_to_name": "Acme Workforce Inc.",
        "time_zone": "America/New_York",
        "payment_terms_days": 30,
        "locale": "en_US",
        "series": "BULK",
        "sequence_number": n,
        "number": f"BULK-{n:06d}",
        "invoice_date": on,
        "due_date": on + timedelta(days=30),
        "subtotal": Decimal("1234.57"),
        "discount_total": Decimal("0.00"),
        "tax_total": Decimal("0.00"),
        "total": Decimal("1234.57"),
        "amount_paid": Decimal("0.00"),
        "created_at": at,
        "finalized_at": at,
        "version": 1,
    }


# --- the extension point: a concept adds its kind of entry by adding a query -------------------

_EXTRA = MetaData()
_PAYMENTS = Table(
    "statement_test_payments",
    _EXTRA,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(64)),
    Column("currency", String(3)),
    Column("reference", String(40)),
    Column("received_at", UtcDateTime()),
    Column("amount", ExactDecimal()),
)
_CREDIT_NOTES = Table(
    "statement_test_credit_notes",
    _EXTRA,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(64)),
    Column("currency", String(3)),
    Column("number", String(24)),
    Column("issue_date", Date()),
    Column("issued_at", UtcDateTime()),
    Column("total", ExactDecimal()),
)


def _mine(table: Table, scope: ActivityScope) -> list[Any]:
    return [table.c.account_id == scope.account_id, table.c.currency == scope.currency]


# Dated by an instant: the payment counts on the account-local day it was received.
PAYMENTS = LedgerSource(
    EntryKind.PAYMENT,
    before=lambda s: select(func.sum(_PAYMENTS.c.amount)).where(
        *_mine(_PAYMENTS, s), _PAYMENTS.c.received_at < s.starts_at
    ),
    during=lambda s: select(
        _PAYMENTS.c.id.label("document_id"),
        _PAYMENTS.c.reference.label("reference"),
        literal("", String).label("description"),
        cast(null(), Date).label("entry_date"),
        _PAYMENTS.c.received_at.label("posted_at"),
        _PAYMENTS.c.amount.label("amount"),
        cast(null(), Date).label("due_date"),
    ).where(
        *_mine(_PAYMENTS, s), _PAYMENTS.c.received_at >= s.starts_at, _PAYMENTS.c.received_at < s.ends_at
    ),
)
# Dated by a business date: the credit note's issue date.
CREDIT_NOTES = LedgerSource(
    EntryKind.CREDIT_NOTE,
    before=lambda s: select(func.sum(_CREDIT_NOTES.c.total)).where(
        *_mine(_CREDIT_NOTES, s), _CREDIT_NOTES.c.issue_date < s.from_
    ),
    during=lambda s: select(
        _CREDIT_NOTES.c.id.label("document_id"),
        _CREDIT_NOTES.c.number.label("reference"),
        literal("", String).label("description"),
        _CREDIT_NOTES.c.issue_date.label("entry_date"),
        _CREDIT_NOTES.c.issued_at.label("posted_at"),
        _CREDIT_NOTES.c.total.label("amount"),
        cast(null(), Date).label("due_date"),
    ).where(*_mine(_CREDIT_NOTES, s), _CREDIT_NOTES.c.issue_date.between(s.from_, s.to)),
)


async def test_example_9_with_payments_and_credit_notes_plugged_in_as_queries(ledger: Ledger) -> None:
    """EXAMPLES §9 from SQL: 1,000.00 brought forward, a payment of 600.00, a credit note of 50.00
    and a new invoice of 300.00 make 650.00 — payments and credit notes as sources of their own; a
    payment received late on August 31 in New York (September in UTC) still counts in August."""
    runtime = ledger.invoicing.runtime
    async with runtime.db.session() as session:
        await (await session.connection()).run_sync(_EXTRA.create_all)
        noon = datetime(2026, 8, 5, 16, tzinfo=UTC)
        await session.exec(  # type: ignore[call-overload]
            insert(_CREDIT_NOTES),
            params=[
                {
                    "id": "cn_0",
                    "account_id": "acct_1",
                    "currency": "USD",
                    "number": "CN-2026-000001",
                    "issue_date": date(2026, 7, 10),
                    "issued_at": noon - timedelta(days=26),
                    "total": Decimal("200.00"),
                },
                {
                    "id": "cn_1",
                    "account_id": "acct_1",
                    "currency": "USD",
                    "number": "CN-2026-000002",
                    "issue_date": date(2026, 8, 12),
                    "issued_at": noon + timedelta(days=7),
                    "total": Decimal("50.00"),
                },
            ],
        )
        await session.exec(  # type: ignore[call-overload]
            insert(_PAYMENTS),
            params=[
                {
                    "id": "pay_1",
                    "account_id": "acct_1",
                    "currency": "USD",
                    "reference": "WIRE 4711",
                    "received_at": noon,
                    "amount": Decimal("600.00"),
                },
                # 22:00 in New York on August 31: still August, though September in UTC.
                {
                    "id": "pay_late",
                    "account_id": "acct_1",
                    "currency": "USD",
                    "reference": "ACH 1",
                    "received_at": datetime(2026, 9, 1, 2, tzinfo=UTC),
                    "amount": Decimal("0.01"),
                },
            ],
        )
        await session.commit()
    await ledger.issue("june", on=date(2026, 6, 30), quantity="120", period=(date(2026, 6, 1), JULY[0]))
    august = await ledger.issue("august", on=date(2026, 8, 20), quantity="30", period=AUGUST)

    async with runtime.invoicing_unit_of_work() as uow:
        assert isinstance(uow.account_ledger, SqlAccountLedger)
        uow.account_ledger = SqlAccountLedger(
            uow.account_ledger.session, (*LEDGER_SOURCES, PAYMENTS, CREDIT_NOTES)
        )
        found = await statement_for(
            uow=uow, account_id="acct_1", from_=date(2026, 8, 1), to=date(2026, 8, 31)
        )

    statement = found.statement
    assert statement.previous_balance == Decimal("1000.00")
    assert [(line.entry.document_id, line.entry.on, line.balance) for line in statement.lines] == [
        ("pay_1", date(2026, 8, 5), Decimal("400.00")),
        ("cn_1", date(2026, 8, 12), Decimal("350.00")),
        (august, date(2026, 8, 20), Decimal("650.00")),
        ("pay_late", date(2026, 8, 31), Decimal("649.99")),
    ]
    assert statement.balance_due == Decimal("649.99")
