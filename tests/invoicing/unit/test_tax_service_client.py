"""The external tax service adapter against a mock transport: what it sends, how it rounds, what it
refuses, and that exempt invoices never leave the service."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from invoicing.domain.tax import TaxCalculator, TaxOutcome
from invoicing.tax_service_client import HttpTaxCalculator, TaxServiceUnavailable
from tests.invoicing.unit.factories_tax import exempt, line, request, taxable

Handler = Callable[[httpx.Request], httpx.Response]


def _calculator(handler: Handler) -> HttpTaxCalculator:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://tax.test")
    return HttpTaxCalculator(client)


def _answer(*lines: dict[str, Any]) -> Handler:
    def handle(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"lines": list(lines)})

    return handle


async def test_the_provider_is_asked_once_per_invoice_and_each_line_is_rounded_once() -> None:
    sent: list[dict[str, Any]] = []

    def handle(http: httpx.Request) -> httpx.Response:
        sent.append(json.loads(http.content))
        return httpx.Response(
            200,
            json={
                "lines": [
                    {"line_id": "b", "tax": "0", "rate": None, "reason": "Not taxable in US-CA"},
                    {
                        "line_id": "a",
                        "tax": "7.2495",
                        "rate": "7.25",
                        "rate_name": "Sales tax",
                        "jurisdiction": "US-CA",
                    },
                ]
            },
        )

    calculator: TaxCalculator = _calculator(handle)
    ask = request(
        line("99.99", "SW050000", "a"),
        line("10.00", None, "b"),
        account=taxable("US", "CA"),
        on=date(2026, 8, 1),
        currency="USD",
    )
    assessment = await calculator.calculate(ask)
    assert sent == [
        {
            "invoice_date": "2026-08-01",
            "currency": "USD",
            "ship_to": {"country": "US", "region": "CA", "postal_code": None},
            "lines": [
                {"line_id": "a", "tax_code": "SW050000", "amount": "99.99"},
                {"line_id": "b", "tax_code": None, "amount": "10.00"},
            ],
        }
    ]
    a, b = assessment.lines
    assert (a.line_id, a.amount, a.rate, a.rate_name, a.outcome) == (
        "a",
        Decimal("7.25"),
        Decimal("7.25"),
        "Sales tax",
        TaxOutcome.TAXED,
    )
    assert (b.line_id, b.amount, b.outcome, b.reason) == (
        "b",
        Decimal(0),
        TaxOutcome.NO_RATE,
        "Not taxable in US-CA",
    )
    assert assessment.total == Decimal("7.25")


async def test_an_exempt_invoice_is_never_sent() -> None:
    def handle(_request: httpx.Request) -> httpx.Response:
        raise AssertionError("an exempt invoice reached the tax service")

    assessment = await _calculator(handle).calculate(
        request(line("100.00"), account=exempt(), currency="USD")
    )
    assert (assessment.total, assessment.note) == (
        Decimal(0),
        "Exempt: certificate EX-123 valid until 2027-12-31",
    )


def _refused(http: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"detail": "down"})


def _unreachable(http: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no route", request=http)


@pytest.mark.parametrize(
    "handler",
    [
        _refused,
        _unreachable,
        lambda _r: httpx.Response(200, content=b"not json"),
        _answer({"line_id": "a", "tax": 7.25, "rate": "7.25"}),  # a JSON number for money
        _answer({"line_id": "a", "tax": "7.25", "rate": "7.25"}),  # line b missing
        _answer(
            {"line_id": "a", "tax": "1", "rate": "7.25"},
            {"line_id": "a", "tax": "1", "rate": "7.25"},
            {"line_id": "b", "tax": "1", "rate": "7.25"},
        ),
        _answer(
            {"line_id": "a", "tax": "1", "rate": "7.25"}, {"line_id": "b", "tax": "1.00"}
        ),  # tax, no rate
    ],
)
async def test_an_unusable_answer_is_a_retryable_error(handler: Handler) -> None:
    ask = request(
        line("10.00", line_id="a"), line("10.00", line_id="b"), account=taxable("US", "CA"), currency="USD"
    )
    with pytest.raises(TaxServiceUnavailable) as error:
        await _calculator(handler).calculate(ask)
    assert error.value.status == 503 and error.value.transient
