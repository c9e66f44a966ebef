"""Plain values for tax tests: rates, accounts' tax status and requests."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from invoicing.domain.billing_inputs import AccountTaxStatus, TaxTreatment
from invoicing.domain.tax import TaxableLine, TaxRate, TaxRequest

_ids = itertools.count(1)
AUGUST_1 = date(2026, 8, 1)


def tax_rate(rate: str = "20", **fields: Any) -> TaxRate:
    """A rate in force from 2026-01-01, open-ended: GB VAT 20 % on every code unless told otherwise."""
    values: dict[str, Any] = {
        "id": f"txr_{next(_ids):04d}",
        "country": "GB",
        "region": None,
        "tax_code": None,
        "rate": Decimal(rate),
        "name": "VAT",
        "effective_from": date(2026, 1, 1),
        "effective_to": None,
    }
    values.update(fields)
    return TaxRate(**values)


def taxable(country: str | None = "GB", region: str | None = None) -> AccountTaxStatus:
    """A taxable account's status with its tax address."""
    return AccountTaxStatus(country=country, region=region)


def exempt(
    certificate: str | None = "EX-123", expiry: date | None = date(2027, 12, 31), **fields: Any
) -> AccountTaxStatus:
    """An exempt account's status (certificate valid through `expiry`)."""
    return AccountTaxStatus(
        treatment=TaxTreatment.EXEMPT,
        certificate_number=certificate,
        certificate_expiry=expiry,
        country=fields.pop("country", "US"),
        region=fields.pop("region", "CA"),
    )


def line(amount: str, tax_code: str | None = "SW050000", line_id: str | None = None) -> TaxableLine:
    """A line to tax."""
    return TaxableLine(line_id or f"line_{next(_ids)}", tax_code, Decimal(amount))


def request(
    *lines: TaxableLine,
    account: AccountTaxStatus | None = None,
    on: date = AUGUST_1,
    currency: str = "GBP",
) -> TaxRequest:
    """One invoice's tax request."""
    return TaxRequest(account or taxable(), on, currency, list(lines))
