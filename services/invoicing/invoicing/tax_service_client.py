"""An external tax service behind the `TaxCalculator` port, over httpx.

The built-in `RateTableTaxCalculator` looks rates up in `/v1/tax-rates`; a deployment that buys
tax from a provider (a sales-tax or VAT engine) wires `HttpTaxCalculator` instead, and the bill
run is unchanged: it gets a `TaxAssessment` with one `LineTax` per line either way.

What stays ours whatever the provider: the exemption (the certificate is in the account's
profile, so an exempt invoice is never sent out), the order and ids of the lines, and rounding
(each line's tax is rounded once, half up, to the currency's minor units, whatever precision the
provider answers with). The wire format below is neutral — a provider's own API is mapped to it
by a thin proxy or by a subclass overriding `to_wire`/`from_wire`.

POST {base_url}/tax/calculate
  {"invoice_date": "2026-08-01", "currency": "USD",
   "ship_to": {"country": "US", "region": "CA", "postal_code": "94105"},
   "lines": [{"line_id": "...", "tax_code": "SW050000", "amount": "100.00"}]}
→ {"lines": [{"line_id": "...", "tax": "7.25", "rate": "7.25", "rate_name": "Sales tax",
              "jurisdiction": "US-CA", "reason": null}]}
"""

from __future__ import annotations

from decimal import Decimal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from invoicing.domain.tax import (
    LineTax,
    TaxAssessment,
    TaxCalculator,
    TaxOutcome,
    TaxRequest,
    assess_tax,
)
from libs.contracts.types import Amount, Percent
from libs.platform.errors import RetryableError
from libs.platform.logging import get_logger
from libs.platform.money import round_money

log = get_logger("tax_service")
CALCULATE_PATH = "/tax/calculate"


class TaxServiceUnavailable(RetryableError):
    """The tax service did not answer usably (unreachable, timed out, an error, a malformed or
    incomplete answer): the invoice is not drafted now, and the bill run tries it again later."""

    code = "tax_service_unavailable"


class _WireLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    line_id: str
    tax: Amount
    rate: Percent | None = None
    rate_name: str | None = Field(default=None, max_length=100)
    jurisdiction: str | None = Field(default=None, max_length=120)
    reason: str | None = Field(default=None, max_length=500)


class _WireAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lines: list[_WireLine]


class HttpTaxCalculator(TaxCalculator):
    """Asks an external tax service for each invoice's tax (one request per invoice)."""

    def __init__(self, client: httpx.AsyncClient, *, path: str = CALCULATE_PATH) -> None:
        self.client = client
        self.path = path

    async def calculate(self, request: TaxRequest) -> TaxAssessment:
        """The provider's tax per line; exempt invoices are answered here without a call."""
        if request.account_tax.exempt_on(request.invoice_date) or not request.lines:
            return assess_tax((), request)
        try:
            response = await self.client.post(self.path, json=self.to_wire(request))
            response.raise_for_status()
            answer = _WireAnswer.model_validate_json(response.content)
        except (httpx.HTTPError, ValidationError) as exc:
            log.warning("tax_service.failed", error=type(exc).__name__, detail=str(exc)[:300])
            raise TaxServiceUnavailable(
                f"the tax service did not answer usably: {type(exc).__name__}"
            ) from None
        return self.from_wire(request, answer)

    def to_wire(self, request: TaxRequest) -> dict[str, object]:
        """The request body for one invoice."""
        account = request.account_tax
        return {
            "invoice_date": request.invoice_date.isoformat(),
            "currency": request.currency,
            "ship_to": {
                "country": account.country,
                "region": account.region,
                "postal_code": account.postal_code,
            },
            "lines": [
                {"line_id": line.line_id, "tax_code": line.tax_code, "amount": format(line.amount, "f")}
                for line in request.lines
            ],
        }

    def from_wire(self, request: TaxRequest, answer: _WireAnswer) -> TaxAssessment:
        """The assessment of the provider's answer: every requested line once, each rounded once."""
        by_id = {line.line_id: line for line in answer.lines}
        asked = [line.line_id for line in request.lines]
        if len(by_id) != len(answer.lines) or set(by_id) != set(asked):
            raise TaxServiceUnavailable("the tax service did not answer for exactly the lines asked")
        lines = []
        for line in request.lines:
            wire = by_id[line.line_id]
            taxed = wire.rate is not None
            if not taxed and wire.tax != Decimal(0):
                raise TaxServiceUnavailable(
                    f"the tax service charged tax on line {line.line_id} without a rate"
                )
            lines.append(
                LineTax(
                    line_id=line.line_id,
                    taxable_amount=line.amount,
                    amount=round_money(wire.tax, request.currency),
                    outcome=TaxOutcome.TAXED if taxed else TaxOutcome.NO_RATE,
                    rate=wire.rate,
                    rate_name=wire.rate_name,
                    jurisdiction=wire.jurisdiction,
                    reason=None if taxed else (wire.reason or "No tax: the tax service charged none"),
                )
            )
        return TaxAssessment(currency=request.currency, lines=tuple(lines))
