"""The bill-run benchmark's data: the invoicing read model of N accounts, seeded in bulk.

Each account `acct_00000000 …` is a taxable USD account in New York on cycle day 1 with two
monthly in-advance subscriptions (a platform at 300.00 and 25 seats at 12.00, both active from
the run's month on) and one rated usage of July (12.34); one New York sales tax rate. Seeding
writes the read model's tables directly, a few thousand rows per statement (what the consumers
would have written from the events, without going through them: the benchmark measures the
bill run, not the read model's consumers).

`BASELINE_INVOICES` is the baseline's table: invoice rows of the same width as `invoices`, with
its "one invoice per account, currency and period" primary key, filled in bulk.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Column, Date, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from invoicing.models.billing_inputs import (
    BillingAccountRow,
    BillingWatermarkRow,
    CatalogProductRow,
    RatedUsageRow,
    SubscriptionVersionRow,
)
from invoicing.models.tax_rates import TaxRateRow
from libs.platform.db import ExactDecimal

PREFIX: Final = "acct_"
WIDTH: Final = 8
SEED_BATCH: Final = 5_000
METADATA: Final = MetaData()
T0: Final = datetime(2026, 7, 1, tzinfo=UTC)
TERM: Final = (date(2026, 8, 1), date(2027, 8, 1))
USAGE_PERIOD: Final = (date(2026, 7, 1), date(2026, 8, 1))
PRODUCTS: Final = (("prod_platform", "Platform", "SW050000"), ("prod_seats", "Seats", "SW050000"))
SUBSCRIPTIONS: Final = (("platform", "prod_platform", "1", "300.00"), ("seats", "prod_seats", "25", "12.00"))
USAGE_AMOUNT: Final = Decimal("12.34")
TAX_RATE: Final = Decimal("8.875")


def account_id(number: int) -> str:
    """The id of the account numbered `number`."""
    return f"{PREFIX}{number:0{WIDTH}d}"


def invoice_total() -> Decimal:
    """What each account's invoice comes to: 300.00 + 25 x 12.00 + 12.34 = 612.34, each line taxed
    at 8.875 % rounded per line (26.625 -> 26.63 twice, 1.095175 -> 1.10)."""
    return Decimal("612.34") + Decimal("26.63") + Decimal("26.63") + Decimal("1.10")


BASELINE_INVOICES: Final = Table(
    "bench_invoices_baseline",
    METADATA,
    Column("account_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, nullable=False),
    Column("id", String(40), nullable=False),
    Column("number", String(40), nullable=False),
    Column("run_id", String(40), nullable=False),
    Column("subtotal", ExactDecimal(), nullable=False),
    Column("tax_total", ExactDecimal(), nullable=False),
    Column("total", ExactDecimal(), nullable=False),
)


def baseline_rows(first: int, last: int, *, period_start: date, period_end: date) -> list[dict[str, Any]]:
    """The baseline's invoice rows of accounts numbered [first, last)."""
    total = invoice_total()
    return [
        {
            "account_id": account_id(n),
            "currency": "USD",
            "period_start": period_start,
            "period_end": period_end,
            "id": f"inv_{n:012d}",
            "number": f"INV-2026-{n + 1:06d}",
            "run_id": "baseline",
            "subtotal": Decimal("612.34"),
            "tax_total": total - Decimal("612.34"),
            "total": total,
        }
        for n in range(first, last)
    ]


def _account(n: int) -> dict[str, Any]:
    return {
        "account_id": account_id(n),
        "customer_id": f"cus_{n:08d}",
        "name": f"Customer {n}",
        "currency": "USD",
        "bill_cycle_day": 1,
        "time_zone": "UTC",
        "payment_terms_days": 30,
        "parent_account_id": None,
        "bills_to_parent": False,
        "tax_treatment": "taxable",
        "tax_certificate_number": None,
        "tax_certificate_expiry": None,
        "tax_country": "US",
        "tax_region": "NY",
        "tax_postal_code": "10001",
        "billing_email": None,
        "locale": "en_US",
        "event_at": T0,
    }


def _subscriptions(n: int) -> Iterator[dict[str, Any]]:
    for name, product_id, quantity, unit_price in SUBSCRIPTIONS:
        yield {
            "event_id": f"evt_{name}_{n:08d}",
            "event_at": T0,
            "event_kind": "subscription.activated",
            "subscription_id": f"sub_{name}_{n:08d}",
            "account_id": account_id(n),
            "product_id": product_id,
            "currency": "USD",
            "charge_type": "recurring",
            "billing_period": "monthly",
            "billing_timing": "in_advance",
            "effective_date": TERM[0],
            "state": "active",
            "quantity": Decimal(quantity),
            "unit_price": Decimal(unit_price),
            "discount_percent": Decimal(0),
            "price_id": f"price_{name}",
            "price_version": 1,
            "term_start": TERM[0],
            "term_end": TERM[1],
        }


def _usage(n: int) -> dict[str, Any]:
    return {
        "rated_usage_id": f"ru_{n:08d}",
        "subscription_id": f"sub_platform_{n:08d}",
        "account_id": account_id(n),
        "product_id": "prod_platform",
        "meter": "api_calls",
        "unit_of_measure": "call",
        "period_start": USAGE_PERIOD[0],
        "period_end": USAGE_PERIOD[1],
        "quantity": Decimal(1234),
        "billable_quantity": Decimal(1234),
        "late_quantity": Decimal(0),
        "currency": "USD",
        "price_id": "price_api_calls",
        "price_version": 1,
        "charge_amount": USAGE_AMOUNT,
        "minimum_shortfall": Decimal(0),
        "prepaid_amount": Decimal(0),
        "amount": USAGE_AMOUNT,
        "rated_at": T0,
    }


async def seed_read_model(connection: AsyncConnection, accounts: int) -> None:
    """Write the read model of `accounts` accounts (see the module), `SEED_BATCH` accounts a statement."""
    await connection.execute(
        insert(CatalogProductRow.__table__),
        [{"product_id": p, "name": name, "tax_code": code, "event_at": T0} for p, name, code in PRODUCTS],
    )
    await connection.execute(
        insert(TaxRateRow.__table__),
        [
            {
                "id": "txr_bench_ny",
                "country": "US",
                "region": "NY",
                "region_key": "NY",
                "tax_code": None,
                "rate": TAX_RATE,
                "name": "NY sales tax",
                "effective_from": date(2026, 1, 1),
                "effective_to": None,
                "created_at": T0,
                "updated_at": T0,
            }
        ],
    )
    for first in range(0, accounts, SEED_BATCH):
        numbers = range(first, min(first + SEED_BATCH, accounts))
        await connection.execute(
            insert(BillingAccountRow.__table__),
            [_account(n) for n in numbers],
        )
        await connection.execute(  # unmarked (due), as `account.opened` leaves it
            insert(BillingWatermarkRow.__table__),
            [{"account_id": account_id(n), "billed_through": None, "version": 0} for n in numbers],
        )
        await connection.execute(
            insert(SubscriptionVersionRow.__table__),
            [row for n in numbers for row in _subscriptions(n)],
        )
        await connection.execute(
            insert(RatedUsageRow.__table__),
            [_usage(n) for n in numbers],
        )
