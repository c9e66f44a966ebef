"""The events the payables read model is kept from, with defaults drawn from seed 000 / EXAMPLES §1:
the WFM vendor's volume cost book (1-100 seats 12.00, 101-500 10.00, 501+ 8.50 per seat per month,
markup 20%), a cost-plus price billed annually on it, and a 3-year commitment of 250 seats from
2026-03-01."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from libs.contracts import catalog, invoicing, provisioning
from libs.contracts.vocabulary import TierMode, TierPeriod
from libs.pricing import Tier
from overage.domain.resold_subscriptions import CostBookVersion

VENDOR = "ven_monet"
COST_BOOK = "cb_monet"
PRODUCT = "prod_wfm_seat"
PRICE = "price_wfm_seat"
TERM_START = date(2026, 3, 1)
TERM_END = date(2029, 3, 1)
SEED_TIERS = (
    ("100", "12.00"),
    ("500", "10.00"),
    (None, "8.50"),
)


def cost_book_version(mode: TierMode = TierMode.VOLUME, **fields: Any) -> CostBookVersion:
    """The seed's cost book as the read model keeps it."""
    terms: dict[str, Any] = {
        "cost_book_id": COST_BOOK,
        "version": 1,
        "vendor_id": VENDOR,
        "currency": "USD",
        "mode": mode,
        "tier_period": TierPeriod.MONTHLY,
        "markup_percent": Decimal("20"),
        "tiers": tuple(Tier(None if up is None else Decimal(up), Decimal(price)) for up, price in SEED_TIERS),
        "effective_from": date(2026, 1, 1),
        "effective_to": None,
    }
    terms.update(fields)
    return CostBookVersion(**terms)


def product_changed(product_id: str = PRODUCT, vendor_id: str | None = VENDOR) -> catalog.ProductChanged:
    """The resold WFM seat."""
    return catalog.ProductChanged(
        product_id=product_id,
        change="created",
        sku="WFM-SEAT",
        name="WFM seat",
        kind="license",
        unit_of_measure="seat",
        license_type="committed",
        revenue_rule="ratable",
        tax_code="SW050000",
        vendor_id=vendor_id,
    )


def cost_book_published(**fields: Any) -> catalog.CostBookPublished:
    """The seed's cost book as the catalog publishes it."""
    terms: dict[str, Any] = {
        "cost_book_id": COST_BOOK,
        "version": 1,
        "vendor_id": VENDOR,
        "currency": "USD",
        "mode": "volume",
        "tier_period": "monthly",
        "markup_percent": "20",
        "tiers": [catalog.TierTerms(up_to=up, unit_price=price) for up, price in SEED_TIERS],
        "effective_from": date(2026, 1, 1),
    }
    terms.update(fields)
    return catalog.CostBookPublished(**terms)


def price_published(**fields: Any) -> catalog.PricePublished:
    """A cost-plus price on the seed's book, billed annually in advance."""
    terms: dict[str, Any] = {
        "price_id": PRICE,
        "version": 1,
        "product_id": PRODUCT,
        "currency": "USD",
        "charge_type": "recurring",
        "billing_period": "annual",
        "timing": "in_advance",
        "model": "cost_plus",
        "cost_book_id": COST_BOOK,
        "effective_from": date(2026, 1, 1),
    }
    terms.update(fields)
    return catalog.PricePublished(**terms)


def subscription_activated(
    subscription_id: str = "sub_wfm", account_id: str = "acct_acme", **fields: Any
) -> provisioning.SubscriptionActivated:
    """250 seats committed for 3 years from 2026-03-01, billed annually in advance at 144.00 a seat."""
    terms: dict[str, Any] = {
        "product_id": PRODUCT,
        "price_id": PRICE,
        "price_version": 1,
        "currency": "USD",
        "unit_price": "144.00",
        "discount_percent": "0",
        "charge_type": "recurring",
        "billing_period": "annual",
        "billing_timing": "in_advance",
        "quantity": 250,
        "commitment_quantity": 250,
        "license_type": "committed",
        "term_start": TERM_START,
        "term_end": TERM_END,
        "renewal": "expire",
        "state": "active",
        "effective_date": TERM_START,
    }
    terms.update(fields)
    return provisioning.SubscriptionActivated(subscription_id=subscription_id, account_id=account_id, **terms)


def invoice_line(
    charge_key: str,
    amount: str,
    *,
    period_start: date,
    period_end: date,
    subscription_id: str | None = "sub_wfm",
    quantity: str = "250",
    unit_price: str | None = "144.00",
    kind: str = "recurring",
) -> invoicing.InvoiceLinePayload:
    """One issued line (no tax)."""
    return invoicing.InvoiceLinePayload(
        charge_key=charge_key,
        kind=kind,
        description=charge_key,
        subscription_id=subscription_id,
        product_id=PRODUCT,
        price_id=PRICE,
        price_version=1,
        period_start=period_start,
        period_end=period_end,
        quantity=quantity,
        unit_price=None if unit_price is None else Decimal(unit_price),
        list_amount=amount,
        discount_amount="0.00",
        amount=amount,
        tax_rate="0",
        tax_amount="0.00",
        source_kind="subscription",
        source_id=subscription_id or charge_key,
    )


def invoice_finalized(
    invoice_id: str,
    number: str,
    invoice_date: date,
    lines: list[invoicing.InvoiceLinePayload],
    account_id: str = "acct_acme",
) -> invoicing.InvoiceFinalized:
    """An issued invoice of `lines` (tax-exempt)."""
    subtotal = sum((line.amount for line in lines), Decimal(0))
    return invoicing.InvoiceFinalized(
        invoice_id=invoice_id,
        number=number,
        account_id=account_id,
        customer_id="cus_acme",
        bill_to_name="Acme",
        currency="USD",
        run_kind="cycle",
        period_start=min(line.period_start for line in lines),
        period_end=max(line.period_end for line in lines),
        invoice_date=invoice_date,
        due_date=invoice_date,
        payment_terms_days=0,
        subtotal=subtotal,
        discount_total="0.00",
        tax_total="0.00",
        total=subtotal,
        amount_due=subtotal,
        lines=lines,
        finalized_at=datetime.combine(invoice_date, datetime.min.time(), tzinfo=UTC),
    )


def annual_invoice(
    year: int, amount: str = "36000.00", subscription_id: str = "sub_wfm"
) -> invoicing.InvoiceLinePayload:
    """Our annual line for commitment year starting 1 March `year` (36,000.00 = 250 x 12.00 x 12)."""
    return invoice_line(
        f"{subscription_id}:{year}-03",
        amount,
        period_start=date(year, 3, 1),
        period_end=date(year + 1, 3, 1),
        subscription_id=subscription_id,
    )
