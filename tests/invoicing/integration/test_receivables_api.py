"""`/v1/ar/aging` (JSON and CSV) and `/v1/accounts/{id}/balance` on SQLite and PostgreSQL, over
invoices issued on chosen dates: every bucket and its boundaries to the cent, 0- and 3-decimal
currencies, payments, voids and write-offs as they stood at the date; 4xx on bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from invoicing.handlers.receivables import aging_pages
from tests.invoicing.factories import billing_account
from tests.invoicing.integration.receivables_book import ERP, FINANCE, Book, book_fixture  # noqa: F401

AS_OF = "2026-12-31"


async def _usd_book(book: Book) -> dict[str, str]:
    """Net 30: each invoice is due 30 days after it is issued; days past due at 2026-12-31 noted."""
    return {
        "a": await book.issue("a", "100.00", on=date(2026, 12, 6)),  # due 2027-01-05: current
        "b": await book.issue("b", "10.01", on=date(2026, 12, 1)),  # due 2026-12-31: current (0 days)
        "c": await book.issue("c", "200.00", on=date(2026, 11, 1)),  # due 2026-12-01: 30 days
        "d": await book.issue("d", "300.00", on=date(2026, 10, 31)),  # due 2026-11-30: 31 days
        "e": await book.issue("e", "0.99", on=date(2026, 10, 2)),  # due 2026-11-01: 60 days
        "f": await book.issue("f", "400.00", on=date(2026, 10, 1)),  # due 2026-10-31: 61 days
        "g": await book.issue("g", "50.50", on=date(2026, 9, 2)),  # due 2026-10-02: 90 days
        "h": await book.issue("h", "600.00", on=date(2026, 9, 1)),  # due 2026-10-01: 91 days
        "later": await book.issue("later", "999.00", on=date(2027, 1, 2)),  # after the date: left out
    }


async def _aging(book: Book, **params: str) -> dict:  # type: ignore[type-arg]
    response = await book.client.get("/v1/ar/aging", params={"as_of": AS_OF} | params, headers=ERP)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _buckets(row: dict) -> list[str]:  # type: ignore[type-arg]
    return [row[k] for k in ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "total")]


async def test_aging_in_every_bucket_at_the_boundaries_to_the_cent(book: Book) -> None:
    invoices = await _usd_book(book)
    book.clock.at = datetime(2026, 12, 20, 15, tzinfo=UTC)
    await book.pay(invoices["d"], "100.00")  # paid before the date: 200.00 left in 31-60
    voided = await book.issue("void", "77.00", on=date(2026, 10, 1))
    book.clock.at = datetime(2026, 12, 15, 15, tzinfo=UTC)
    await book.void(voided)  # voided before the date: it owed nothing then
    voided_later = await book.issue("void-later", "5.00", on=date(2026, 12, 1))
    book.clock.at = datetime(2027, 1, 2, 15, tzinfo=UTC)
    await book.void(voided_later)  # voided after the date: still owed then (current)

    body = await _aging(book)

    (account,) = body["accounts"]
    assert (account["account_id"], account["account_name"], account["currency"], account["invoices"]) == (
        "acct_1",
        "Acme Workforce Inc.",
        "USD",
        9,
    )
    # current 100.00 + 10.01 + 5.00; 1-30 200.00; 31-60 200.00 + 0.99; 61-90 400.00 + 50.50; 90+ 600.00
    assert _buckets(account) == ["115.01", "200.00", "200.99", "450.50", "600.00", "1566.50"]
    assert body["totals"] == [
        {
            "currency": "USD",
            "accounts": 1,
            "invoices": 9,
            "current": "115.01",
            "days_1_30": "200.00",
            "days_31_60": "200.99",
            "days_61_90": "450.50",
            "days_over_90": "600.00",
            "total": "1566.50",
        }
    ]
    # A day later each boundary moves one bucket on: b and the late void 1 day (10.01 + 5.00),
    # c 31 and d 32 days (200.00 + 200.00), e 61 and f 62 (0.99 + 400.00), g 91 and h 92 (50.50 + 600.00).
    next_day = (await _aging(book, as_of="2027-01-01"))["accounts"][0]
    assert _buckets(next_day) == ["100.00", "15.01", "400.00", "400.99", "650.50", "1566.50"]


async def test_aging_per_account_and_currency_with_0_and_3_decimal_currencies(book: Book) -> None:
    await book.open(billing_account("acct_2", name="Globex", currency="JPY"))
    await book.open(billing_account("acct_3", name="Gulf Trading W.L.L.", currency="BHD"))
    await book.issue("usd", "1.00", on=date(2026, 11, 20))  # due 12-20: 11 days
    await book.issue("jpy1", "12345", on=date(2026, 11, 15), account_id="acct_2", currency="JPY")  # 16 days
    await book.issue("jpy2", "1000", on=date(2026, 12, 16), account_id="acct_2", currency="JPY")  # current
    await book.issue("bhd1", "1.235", on=date(2026, 8, 1), account_id="acct_3", currency="BHD")  # 122 days
    await book.issue("bhd2", "0.005", on=date(2026, 11, 20), account_id="acct_3", currency="BHD")  # 11 days

    body = await _aging(book)

    assert [(a["account_id"], a["currency"], _buckets(a)) for a in body["accounts"]] == [
        ("acct_1", "USD", ["0.00", "1.00", "0.00", "0.00", "0.00", "1.00"]),
        ("acct_2", "JPY", ["1000", "12345", "0", "0", "0", "13345"]),
        ("acct_3", "BHD", ["0.000", "0.005", "0.000", "0.000", "1.235", "1.240"]),
    ]
    assert [(t["currency"], t["total"]) for t in body["totals"]] == [
        ("BHD", "1.240"),
        ("JPY", "13345"),
        ("USD", "1.00"),
    ]
    only_yen = await _aging(book, currency="JPY")
    assert [a["account_id"] for a in only_yen["accounts"]] == ["acct_2"]
    assert only_yen["currency"] == "JPY"


async def test_aging_as_csv_with_a_header_and_totals(book: Book) -> None:
    await book.open(billing_account("acct_2", name='=HYPERLINK("x")'))
    await book.issue("c", "200.00", on=date(2026, 11, 1))
    await book.issue("h", "600.00", on=date(2026, 9, 1))
    await book.issue("other", "12.34", on=date(2026, 12, 20), account_id="acct_2")

    response = await book.client.get("/v1/ar/aging", params={"as_of": AS_OF, "format": "csv"}, headers=ERP)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "ar-aging-2026-12-31.csv" in response.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(response.text))) == [
        [
            "account_id",
            "account_name",
            "currency",
            "invoices",
            "current",
            "days_1_30",
            "days_31_60",
            "days_61_90",
            "days_over_90",
            "total",
        ],
        ["acct_1", "Acme Workforce Inc.", "USD", "2", "0.00", "200.00", "0.00", "0.00", "600.00", "800.00"],
        ["acct_2", '\'=HYPERLINK("x")', "USD", "1", "12.34", "0.00", "0.00", "0.00", "0.00", "12.34"],
        ["TOTAL", "", "USD", "3", "12.34", "200.00", "0.00", "0.00", "600.00", "812.34"],
    ]


async def test_a_large_book_is_read_a_page_of_accounts_at_a_time(book: Book) -> None:
    for n in range(5):
        await book.open(billing_account(f"acct_p{n}"))
        await book.issue(f"p{n}", f"{n + 1}.00", on=date(2026, 11, 1), account_id=f"acct_p{n}")

    pages = [
        [row.account_id for row in rows]
        async for rows in aging_pages(
            book.invoicing.runtime.system_unit_of_work, as_of=date(2026, 12, 31), page_accounts=2
        )
    ]

    assert pages == [["acct_p0", "acct_p1"], ["acct_p2", "acct_p3"], ["acct_p4"]]


async def test_the_balance_billed_past_due_and_credit_per_currency(book: Book) -> None:
    # The clock reads 2027-01-04 (New York): due 2026-12-01 is past due, due 2027-01-05 not yet.
    late = await book.issue("late", "200.00", on=date(2026, 11, 1))
    await book.issue("open", "100.00", on=date(2026, 12, 6))
    await book.pay(late, "50.00")

    response = await book.client.get("/v1/accounts/acct_1/balance", headers=ERP)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == "2027-01-04"
    (usd,) = body["balances"]
    assert {k: usd[k] for k in ("currency", "billed", "past_due", "account_credit", "open_invoices")} == {
        "currency": "USD",
        "billed": "250.00",
        "past_due": "150.00",
        "account_credit": "0.00",
        "open_invoices": 2,
    }
    # Nothing is due on the account's subscriptions (it has none): unbilled is zero, not unknown.
    assert (usd["unbilled"], usd["net"], body["unbilled_note"]) == ("0.00", "250.00", None)


async def test_bad_input_is_a_4xx(book: Book) -> None:
    client = book.client
    for params in (
        {"as_of": "2026-13-01"},
        {"as_of": "yesterday"},
        {"as_of": "2026-12-31T00:00:00Z"},
        {"as_of": AS_OF, "currency": "ABC"},
        {"as_of": AS_OF, "currency": "usd"},
        {"as_of": AS_OF, "format": "xml"},
    ):
        response = await client.get("/v1/ar/aging", params=params, headers=ERP)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/accounts/acct_unknown/balance", headers=ERP)).status_code == 404
    assert (await client.get("/v1/ar/aging", params={"as_of": AS_OF})).status_code == 401


async def test_an_overpayment_is_the_accounts_credit_in_its_balance(book: Book) -> None:
    # A check of 260.00 names the 200.00 invoice: 60.00 no invoice took stays as account credit.
    late = await book.issue("late", "200.00", on=date(2026, 11, 1))
    await book.issue("open", "100.00", on=date(2026, 12, 6))
    await book.pay(late, "260.00")

    response = await book.client.get("/v1/accounts/acct_1/balance", headers=ERP)

    assert response.status_code == 200, response.text
    (usd,) = response.json()["balances"]
    assert {k: usd[k] for k in ("billed", "past_due", "account_credit", "open_invoices", "net")} == {
        "billed": "100.00",
        "past_due": "0.00",
        "account_credit": "60.00",
        "open_invoices": 1,
        "net": "40.00",
    }


async def test_aging_on_a_date_counts_the_payments_and_reversals_made_by_then(book: Book) -> None:
    """500.00 issued 2026-09-01 (due 2026-10-01); a check of 200.00 received 2026-11-03 bounces on
    2026-11-20. Owed: 500.00 on 2026-10-15 (1-30), 300.00 on 2026-11-10 (31-60), 300.00 on
    2026-11-15 (31-60), 500.00 again on 2026-11-25 (31-60)."""
    invoice = await book.issue("sep", "500.00", on=date(2026, 9, 1))
    book.clock.at = datetime(2026, 11, 3, 15, tzinfo=UTC)
    await book.pay(invoice, "200.00")
    (payment,) = (await book.client.get("/v1/payments", headers=ERP)).json()["data"]
    book.clock.at = datetime(2026, 11, 20, 15, tzinfo=UTC)
    response = await book.client.post(
        f"/v1/payments/{payment['id']}/reverse", json={"reason": "check returned"}, headers=FINANCE
    )
    assert response.status_code in (200, 201), response.text

    owed = {
        as_of: _buckets((await _aging(book, as_of=as_of))["accounts"][0])
        for as_of in ("2026-10-15", "2026-11-10", "2026-11-15", "2026-11-25")
    }
    assert owed == {
        "2026-10-15": ["0.00", "500.00", "0.00", "0.00", "0.00", "500.00"],
        "2026-11-10": ["0.00", "0.00", "300.00", "0.00", "0.00", "300.00"],
        "2026-11-15": ["0.00", "0.00", "300.00", "0.00", "0.00", "300.00"],
        "2026-11-25": ["0.00", "0.00", "500.00", "0.00", "0.00", "500.00"],
    }
