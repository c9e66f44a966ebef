"""A vendor commitment follows a raise of the subscription's seats (a keep's amendment), on SQLite
and PostgreSQL.

Worked by hand from the cost book (EXAMPLES §1: 1-100 seats 12.00, 101-500 10.00, 501+ 8.50 per
seat per month): 250 seats cost 250 x 10.00 x 12 = 30,000.00 a year. A keep raises the tenant to
262 seats from 2026-08-03: the years not begun by then and not yet invoiced (2027, 2028) expect
262 x 10.00 x 12 = 31,440.00; the year under way (2026, invoiced in advance on 2026-03-01) stays
30,000.00. A later raise to 520 seats from 2027-01-10 crosses into the 501+ band: 520 x 8.50 x 12 =
53,040.00 for 2028; the 2027 invoice, already received at 31,440.00, is not rewritten.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from libs.contracts import provisioning
from tests.overage.factories import (
    cost_book_published,
    price_published,
    product_changed,
    subscription_activated,
)
from tests.overage.integration.conftest import Overage
from tests.overage.integration.test_vendor_payables_api import vendor_invoice
from tests.support.services import auth

pytestmark = pytest.mark.asyncio

FINANCE = auth("finance")


def _raised(quantity: int, previous: int, effective: date) -> provisioning.SubscriptionChanged:
    activated = subscription_activated().model_dump()
    activated.update(quantity=quantity, effective_date=effective)
    return provisioning.SubscriptionChanged(**activated, change="upgrade", previous_quantity=previous)


async def _commitment(overage: Overage) -> dict[str, Any]:
    found = await overage.client.get(
        "/v1/vendor-commitments", params={"subscription_id": "sub_wfm"}, headers=FINANCE
    )
    assert found.status_code == 200, found.text
    (commitment,) = found.json()["data"]
    return dict(commitment)


def _expected(commitment: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(e["invoice_date"], e["amount"], e["status"]) for e in commitment["expected_invoices"]]


async def test_a_raise_of_seats_reprices_the_years_not_yet_billed(overage: Overage) -> None:
    await overage.deliver(
        product_changed(), cost_book_published(), price_published(), subscription_activated()
    )
    first = await overage.client.post("/v1/vendor-invoices", json=vendor_invoice(2026), headers=FINANCE)
    assert first.status_code == 201, first.text

    await overage.deliver(_raised(262, 250, date(2026, 8, 3)))
    commitment = await _commitment(overage)
    assert commitment["seats"] == "262"
    assert _expected(commitment) == [
        ("2026-03-01", "30000.00", "received"),
        ("2027-03-01", "31440.00", "expected"),
        ("2028-03-01", "31440.00", "expected"),
    ]
    # The same event again changes nothing more.
    await overage.deliver(_raised(262, 250, date(2026, 8, 3)))
    assert _expected(await _commitment(overage))[1:] == [
        ("2027-03-01", "31440.00", "expected"),
        ("2028-03-01", "31440.00", "expected"),
    ]

    # The vendor's 2027 invoice matches the repriced year.
    second = await overage.client.post(
        "/v1/vendor-invoices", json=vendor_invoice(2027, "31440.00"), headers=FINANCE
    )
    assert second.status_code == 201, second.text
    assert second.json()["match"] == "matched"

    await overage.deliver(_raised(520, 262, date(2027, 1, 10)))
    commitment = await _commitment(overage)
    assert commitment["seats"] == "520"
    assert _expected(commitment) == [
        ("2026-03-01", "30000.00", "received"),
        ("2027-03-01", "31440.00", "received"),
        ("2028-03-01", "53040.00", "expected"),
    ]


async def test_a_lower_quantity_or_the_same_leaves_the_commitment(overage: Overage) -> None:
    await overage.deliver(
        product_changed(), cost_book_published(), price_published(), subscription_activated()
    )
    before = _expected(await _commitment(overage))
    await overage.deliver(_raised(250, 250, date(2026, 8, 3)))
    assert _expected(await _commitment(overage)) == before
    assert (await _commitment(overage))["seats"] == "250"
