"""The payables half of overage's OpenAPI fuzz (test_openapi_fuzz.py runs it): the rules JSON Schema
cannot state for vendor commitments, vendor invoices and margins, and the seed that makes their
look-ups reach the handlers — the seed's cost book, resold product, price and an active 3-year
subscription (its commitment made by the read model's own handlers), and a vendor invoice
received against it.
"""

from __future__ import annotations

from typing import Any

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import spec_of
from libs.platform.outbox import build_envelope
from overage.bootstrap import bootstrap
from overage.consumers import PAYABLES_READ_MODEL_GROUP
from tests.conftest import run_sync
from tests.overage.factories import (
    cost_book_published,
    price_published,
    product_changed,
    subscription_activated,
)
from tests.overage.integration.conftest import MARCH_2, overage_settings
from tests.overage.integration.test_vendor_payables_api import vendor_invoice

_MONTHS = {
    "from": "a month YYYY-MM (01-12), at most 120 months before `to` (another field)",
    "to": "a month YYYY-MM (01-12), not before `from` (another field)",
}
# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields only.
PAYABLES_RULES = {
    "POST /v1/vendor-commitments": {
        "cost_book_id": "a cost book the catalog published, with a version in force on term_start (stored)",
        "vendor_id": "the cost book's vendor (stored)",
        "seats": "positive, at most 10,000,000",
        "term_end": "after term_start, at most 120 months after it (another field)",
        "term_months": "exactly one of term_end and term_months (another field); the term ends before "
        "the calendar does",
    },
    "POST /v1/vendor-invoices": {
        "amount": "positive, with at most the currency's minor units (another field)",
        "period_end": "after period_start (another field)",
        "currency": "the commitment's currency when it matches one (stored)",
        "account_id": "given, or the account of a known subscription (stored); they agree",
        "overage_case_id": "not on an annual invoice (kind, another field)",
        "tenant_id": "a tenant the vendor mapped (stored); its account and subscription agree",
        "subscription_id": "the tenant's subscription when a tenant is named (another field)",
    },
    "GET /v1/margins": _MONTHS,
    "GET /v1/margins.svg": _MONTHS,
}


async def _read_model(database_url: str, payloads: list[EventPayload]) -> None:
    """The payables read model's events, applied by its consumer's own handlers."""
    runtime = bootstrap(overage_settings(database_url), clock=MARCH_2)
    try:
        (spec,) = [s for s in runtime.consumer_specs if s.group_id == PAYABLES_READ_MODEL_GROUP]
        for payload in payloads:
            async with runtime.db.session() as session:
                await spec.handlers[spec_of(payload).type](
                    session, build_envelope(payload, producer="test", key="k")
                )
                await session.commit()
    finally:
        await runtime.db.dispose()


def seed_payables(client: Any, database_url: str) -> dict[str, str]:
    """The payables read model, its commitment and one received vendor invoice; their ids."""
    run_sync(
        _read_model(
            database_url,
            [product_changed(), cost_book_published(), price_published(), subscription_activated()],
        )
    )
    (commitment,) = client.get("/v1/vendor-commitments").json()["data"]
    received = client.post("/v1/vendor-invoices", json=vendor_invoice())
    assert received.status_code == 201, received.text
    return {"commitment_id": str(commitment["id"]), "vendor_invoice_id": str(received.json()["id"])}
