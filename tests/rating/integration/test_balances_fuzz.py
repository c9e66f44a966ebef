"""Schemathesis against rating's OpenAPI (the balances endpoints), every check: no 500, the document
and the server agree. Seeded with an account, a subscription and one balance of each kind.

Sync on purpose: schemathesis runs the ASGI app (and its lifespan) on its own event-loop thread.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from libs.platform.db import Database
from rating.app import create_app
from rating.models import RatedAccount, RatedSubscription
from tests.conftest import run_sync
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.fuzz_files_rules import FILE_RULES_BEYOND_SCHEMA
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)
BALANCE_LINKS = 4

_STORED_KIND = "a money balance takes amount, a units balance quantity (the stored balance's kind)"
_KIND_FIELDS = {
    "amount": _STORED_KIND,
    "quantity": _STORED_KIND,
    "currency": "the stored balance's currency",
}
# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields only.
RULES_BEYOND_SCHEMA = {
    "POST /v1/balances": {
        "account_id": "an account rating knows (its read model of provisioning)",
        "subscription_id": "a known subscription of that account (stored)",
        "currency": "the subscription's or account's currency (stored)",
        "expires_on": "after the account's local today (the clock)",
        "initial_grant": "amount for money, quantity and unit_price for units (kind, another field)",
        "rollover": "up_to with the up_to policy only (another field)",
        "thresholds": "no threshold twice and none at 0 (no JSON Schema uniqueness by value)",
    },
    "POST /v1/balances/{balance_id}/top-ups": {
        **_KIND_FIELDS,
        "unit_price": "units balances only (the stored balance's kind)",
        "expires_on": "after the account's local today (the clock)",
    },
    "POST /v1/balances/{balance_id}/drawdowns": _KIND_FIELDS,
    **FILE_RULES_BEYOND_SCHEMA,
}


def _seed_read_model(url: str) -> tuple[str, str]:
    async def insert() -> None:
        db = Database(url)
        try:
            async with db.session() as session:
                now = datetime.now(UTC)
                session.add(
                    RatedAccount(
                        account_id="acct_fuzz",
                        customer_id="cus_fuzz",
                        currency="USD",
                        bill_cycle_day=1,
                        time_zone="UTC",
                        event_at=now,
                    )
                )
                session.add(
                    RatedSubscription(
                        subscription_id="sub_fuzz",
                        account_id="acct_fuzz",
                        product_id="prod_support",
                        price_id="price_support",
                        price_version=1,
                        currency="USD",
                        state="active",
                        quantity=Decimal(1),
                        term_start=date(2026, 1, 1),
                        term_end=date(2027, 1, 1),
                        effective_date=date(2026, 1, 1),
                        event_at=now,
                        event_kind="subscription.activated",
                    )
                )
                await session.commit()
        finally:
            await db.dispose()

    run_sync(insert())
    return "acct_fuzz", "sub_fuzz"


def _seeder(url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        with seed_client(app) as client:
            account, subscription = _seed_read_model(url)

            def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                response = client.post(path, json=body)
                assert response.status_code == 201, response.text
                return dict(response.json())

            money = post(
                "/v1/balances",
                {
                    "account_id": account,
                    "subscription_id": subscription,
                    "kind": "money",
                    "initial_grant": {"amount": "100.00"},
                },
            )
            post(
                "/v1/balances",
                {
                    "account_id": account,
                    "kind": "units",
                    "meter": "support_hours",
                    "initial_grant": {"quantity": 40, "unit_price": "150"},
                },
            )
        return {"balance_id": money["id"], "account_id": account, "subscription_id": subscription}

    return seed


def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str) -> None:
    app = create_app(rating_settings(database_url))
    fuzz_every_operation(
        app,
        seed=_seeder(database_url),
        examples=EXAMPLES_PER_OPERATION,
        min_operations=7,
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
    )


def test_created_balances_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    document = create_app(rating_settings(sqlite_url)).openapi()
    assert assert_links_follow_creation(document) == BALANCE_LINKS
