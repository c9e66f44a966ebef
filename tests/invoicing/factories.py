"""Factories of invoicing's tests: billing accounts, invoice lines and drafts with plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from invoicing.domain.billing_inputs import AccountTaxStatus, BillingAccount, TaxTreatment
from invoicing.domain.invoices import BillTo, Invoice, InvoiceLine, RunKind
from libs.platform.money import round_money

AUGUST = (date(2026, 8, 1), date(2026, 9, 1))


def billing_account(account_id: str = "acct_1", **overrides: Any) -> BillingAccount:
    """A taxable USD account in New York, cycle day 1, net 30."""
    values: dict[str, Any] = {
        "account_id": account_id,
        "customer_id": "cus_1",
        "name": "Acme Workforce Inc.",
        "currency": "USD",
        "bill_cycle_day": 1,
        "time_zone": "America/New_York",
        "payment_terms_days": 30,
        "tax": AccountTaxStatus(country="US", region="NY", postal_code="10001"),
        "billing_email": "ap@acme.example",
    }
    values.update(overrides)
    return BillingAccount(**values)


def exempt_account(account_id: str = "acct_exempt", **overrides: Any) -> BillingAccount:
    """An account exempt from tax under a valid certificate."""
    tax = AccountTaxStatus(
        treatment=TaxTreatment.EXEMPT, certificate_number="EX-2026-114", country="US", region="NY"
    )
    return billing_account(account_id, tax=tax, **overrides)


def invoice_line(
    charge_key: str = "sub_1:recurring:2026-08-01",
    *,
    quantity: str = "250",
    unit_price: str = "12.00",
    discount: str = "0.00",
    tax_rate: str = "8.875",
    tax_amount: str | None = None,
    currency: str = "USD",
    account_id: str = "acct_1",
    description: str = "WFM Suite seats (annual, in advance)",
    period: tuple[date, date] = AUGUST,
    **overrides: Any,
) -> InvoiceLine:
    """A charge line with its tax; list amount = quantity x unit price, amount = list - discount."""
    list_amount = round_money(Decimal(quantity) * Decimal(unit_price), currency)
    amount = list_amount - round_money(Decimal(discount), currency)
    tax = round_money(
        Decimal(tax_amount) if tax_amount is not None else amount * Decimal(tax_rate) / 100, currency
    )
    values: dict[str, Any] = {
        "charge_key": charge_key,
        "kind": "recurring",
        "description": description,
        "account_id": account_id,
        "currency": currency,
        "period_start": period[0],
        "period_end": period[1],
        "quantity": Decimal(quantity),
        "unit_price": Decimal(unit_price),
        "list_amount": list_amount,
        "discount_amount": Decimal(discount),
        "amount": amount,
        "source_kind": "subscription",
        "source_id": "sub_1",
        "subscription_id": "sub_1",
        "product_id": "prod_wfm",
        "price_id": "price_wfm",
        "price_version": 1,
        "tax_code": "SaaS",
        "tax_rate": Decimal(tax_rate),
        "tax_amount": tax,
        "tax_jurisdiction": "US-NY",
    }
    values.update(overrides)
    return InvoiceLine(**values)


def draft(*lines: InvoiceLine, invoice_id: str = "inv_1", currency: str = "USD", **overrides: Any) -> Invoice:
    """A draft for August 2026 on acct_1 (one default line unless lines are given)."""
    values: dict[str, Any] = {
        "id": invoice_id,
        "account_id": "acct_1",
        "currency": currency,
        "period_start": AUGUST[0],
        "period_end": AUGUST[1],
        "run_kind": RunKind.CYCLE,
        "run_source_id": "",
        "bill_to": BillTo(name="Acme Workforce Inc.", customer_id="cus_1", country="US", region="NY"),
        "time_zone": "America/New_York",
        "payment_terms_days": 30,
        "created_at": datetime(2026, 8, 1, 12, tzinfo=UTC),
    }
    values.update(overrides)
    return Invoice.draft(lines=lines or (invoice_line(currency=currency),), **values)
