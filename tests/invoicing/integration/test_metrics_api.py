"""`/v1/metrics/finance` (JSON and CSV), `/v1/metrics/mrr.svg` and `/v1/ar/aging.svg` on SQLite and
PostgreSQL, over subscriptions in the read model, invoices issued on chosen dates, a credit note,
payments and a refund, checked against numbers worked by hand; 4xx on bad input."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from invoicing.domain.credit_notes import CreditRequest
from invoicing.domain.read_model import SubscriptionRecord
from invoicing.handlers import credit_notes
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType
from tests.invoicing.integration.receivables_book import ERP, FINANCE, Book, book_fixture  # noqa: F401
from tests.invoicing.unit.factories_charges import version

TERM = (date(2026, 1, 1), date(2027, 1, 1))
_keys = itertools.count(1)
_events = itertools.count(1)


async def _subscription(
    book: Book,
    subscription_id: str,
    period: BillingFrequency,
    unit_price: str,
    quantity: str = "1",
    **change: str,
) -> None:
    """An active subscription from 2026-01-01 (a second version from `change['on']` in `change['state']`)."""
    versions = [version(TERM[0], term=TERM, unit_price=unit_price, quantity=quantity)]
    if change:
        on = date.fromisoformat(change["on"])
        versions.append(
            version(on, term=TERM, unit_price=unit_price, quantity=quantity, state=change["state"])
        )
    async with book.invoicing.runtime.invoicing_unit_of_work() as uow:
        for n, terms in enumerate(versions):
            await uow.billing_inputs.add_subscription_version(
                SubscriptionRecord(
                    event_id=f"evt_{next(_events)}",
                    event_at=datetime(2026, 1, 1 + n, tzinfo=UTC),
                    event_kind="subscription.changed",
                    subscription_id=subscription_id,
                    account_id="acct_1",
                    product_id="prod_seats",
                    currency="USD",
                    charge_type=ChargeType.RECURRING,
                    billing_period=period,
                    billing_timing=BillingTiming.IN_ADVANCE,
                    version=terms,
                )
            )
        await uow.commit()


async def _pay(book: Book, amount: str, received_on: str) -> str:
    body = {"account_id": "acct_1", "amount": amount, "currency": "USD", "method_kind": "check"}
    headers = FINANCE | {"Idempotency-Key": f"metrics-pay-{next(_keys)}"}
    response = await book.client.post(
        "/v1/payments", json=body | {"received_on": received_on}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _book_of_february(book: Book) -> None:
    """MRR: monthly 300.00 x 2 seats = 600.00; annual 36,000.00 / 12 = 3,000.00; quarterly
    1,500.00 x 3 / 3 = 1,500.00; a monthly 250.00 cancelled on 2026-02-15 and a monthly 100.00
    suspended on 2026-02-10 count in January only: January 5,450.00, February 5,100.00.
    Documents: A 1,000.00 issued 2026-01-20; B 5,100.00 on 2026-02-05, C 400.00 on 2026-02-20; a
    credit note of 100.00 on B on 2026-02-25; checks of 1,000.00 (2026-02-10, pays A) and 2,000.00
    (2026-02-12, pays B in part); 300.00 of the second refunded on 2026-02-26 (reopens B)."""
    await _subscription(book, "sub_monthly", BillingFrequency.MONTHLY, "300.00", "2")
    await _subscription(book, "sub_annual", BillingFrequency.ANNUAL, "36000.00")
    await _subscription(book, "sub_quarterly", BillingFrequency.QUARTERLY, "1500.00", "3")
    await _subscription(
        book, "sub_cancelled", BillingFrequency.MONTHLY, "250.00", on="2026-02-15", state="cancelled"
    )
    await _subscription(
        book, "sub_suspended", BillingFrequency.MONTHLY, "100.00", on="2026-02-10", state="suspended"
    )
    await book.issue("a", "1000.00", on=date(2026, 1, 20))
    b = await book.issue("b", "5100.00", on=date(2026, 2, 5))
    await book.issue("c", "400.00", on=date(2026, 2, 20))
    async with book.invoicing.runtime.invoicing_unit_of_work() as uow:
        await credit_notes.issue(
            uow=uow,
            invoice_id=b,
            lines=[CreditRequest(charge_key="b", amount=Decimal("100.00"))],
            reason="Two seats billed twice",
            note_date=date(2026, 2, 25),
        )
    await _pay(book, "1000.00", "2026-02-10")
    second = await _pay(book, "2000.00", "2026-02-12")
    book.clock.at = datetime(2026, 2, 26, 15, tzinfo=UTC)
    refund = await book.client.post(
        f"/v1/payments/{second}/refunds",
        json={"amount": "300.00"},
        headers=FINANCE | {"Idempotency-Key": "metrics-refund"},
    )
    assert refund.status_code == 201, refund.text


async def test_finance_metrics_per_month_to_the_cent(book: Book) -> None:
    await _book_of_february(book)

    response = await book.client.get(
        "/v1/metrics/finance", params={"from": "2026-01", "to": "2026-03"}, headers=ERP
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], [c["currency"] for c in body["currencies"]]) == (
        "2026-01",
        "2026-03",
        ["USD"],
    )
    assert body["currencies"][0]["months"] == [
        {
            "month": "2026-01",
            "mrr": "5450.00",
            "arr": "65400.00",
            "billings": "1000.00",
            "collections": "0.00",
            "ar_month_end": "1000.00",
            "dso_days": "31.0",  # 1,000.00 / 1,000.00 x 31
        },
        {
            "month": "2026-02",
            "mrr": "5100.00",
            "arr": "61200.00",
            "billings": "5400.00",  # 5,100.00 + 400.00 - 100.00 credited
            "collections": "2700.00",  # 1,000.00 + 2,000.00 - 300.00 refunded
            # A paid; B 5,100.00 - 100.00 - 2,000.00 + 300.00 = 3,300.00; C 400.00
            "ar_month_end": "3700.00",
            "dso_days": "19.2",  # 3,700.00 / 5,400.00 x 28 = 19.19
        },
        {
            "month": "2026-03",
            "mrr": "5100.00",
            "arr": "61200.00",
            "billings": "0.00",
            "collections": "0.00",
            "ar_month_end": "3700.00",
            "dso_days": None,
        },
    ]

    as_csv = await book.client.get(
        "/v1/metrics/finance",
        params={"from": "2026-02", "to": "2026-02", "currency": "USD", "format": "csv"},
        headers=ERP,
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(as_csv.text))) == [
        ["currency", "month", "mrr", "arr", "billings", "collections", "ar_month_end", "dso_days"],
        ["USD", "2026-02", "5100.00", "61200.00", "5400.00", "2700.00", "3700.00", "19.2"],
    ]
    other = await book.client.get(
        "/v1/metrics/finance", params={"from": "2026-02", "to": "2026-02", "currency": "EUR"}, headers=ERP
    )
    assert other.json()["currencies"] == [
        {
            "currency": "EUR",
            "months": [
                {
                    "month": "2026-02",
                    "mrr": "0.00",
                    "arr": "0.00",
                    "billings": "0.00",
                    "collections": "0.00",
                    "ar_month_end": "0.00",
                    "dso_days": None,
                }
            ],
        }
    ]


async def test_charts_are_svg_with_their_title(book: Book) -> None:
    await _book_of_february(book)

    mrr = await book.client.get(
        "/v1/metrics/mrr.svg", params={"from": "2026-01", "to": "2026-03"}, headers=ERP
    )
    aging = await book.client.get("/v1/ar/aging.svg", params={"as_of": "2026-03-31"}, headers=ERP)

    assert mrr.status_code == 200, mrr.text
    assert mrr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in mrr.content and b"MRR by month (USD), 2026-01 to 2026-03" in mrr.content
    assert b"5,450.00" in mrr.content and b"5,100.00" in mrr.content
    assert aging.status_code == 200, aging.text
    # at 2026-03-31 (aging counts payments as invoices hold them now): B 3,300.00 due 2026-03-07
    # (24 days: 1-30), C 400.00 due 2026-03-22 (9 days: 1-30)
    assert b"A/R aging (USD) as of 2026-03-31: 3,700.00 owed" in aging.content


async def test_bad_input_is_refused(book: Book) -> None:
    for path, params in [
        ("/v1/metrics/finance", {"from": "2026-03", "to": "2026-02"}),
        ("/v1/metrics/finance", {"from": "2026-13", "to": "2026-12"}),
        ("/v1/metrics/finance", {"from": "2026-1", "to": "2026-02"}),
        ("/v1/metrics/finance", {"from": "2000-01", "to": "2026-02"}),  # over 240 months
        ("/v1/metrics/finance", {"from": "2026-01", "to": "2026-02", "currency": "XXZ"}),
        ("/v1/metrics/finance", {"to": "2026-02"}),
        ("/v1/metrics/finance", {"from": "9998-12", "to": "9999-12"}),  # past the last month
        ("/v1/metrics/mrr.svg", {"from": "2026-03", "to": "2026-02"}),
        ("/v1/ar/aging.svg", {"as_of": "2026-02-30"}),
    ]:
        response = await book.client.get(path, params=params, headers=ERP)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
