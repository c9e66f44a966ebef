"""Schemathesis against invoicing's whole OpenAPI, every check (tests/support/fuzz.py): the document
and the server agree, no request yields a 5xx. On SQLite and PostgreSQL.

One run for the one service, seeded with one of everything first so that look-ups reach the
handlers: a tax rate, and a draft, an issued and a void invoice (what a bill run leaves), their
accounts in the read model (the statements' example account among them, so that statements are
read through the ledger), and an adjustment, a credit note and a dispute on the issued invoice;
each concept adds its seed and its rules as it adds routes. Sync on purpose: schemathesis runs
the app's lifespan on its own event-loop thread.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from invoicing.app import create_app
from invoicing.bootstrap import bootstrap
from invoicing.handlers import invoices as handlers
from invoicing.handlers.billing_inputs import BillingInputsReadModel
from tests.conftest import run_sync
from tests.invoicing.factories import AUGUST, billing_account, invoice_line
from tests.invoicing.integration.conftest import AUGUST_1, invoicing_settings
from tests.support.fuzz import (
    assert_links_follow_creation,
    examples_per_operation,
    fuzz_every_operation,
    seed_client,
)

EXAMPLES_PER_OPERATION = examples_per_operation(10)
MIN_LINKS = 2 + 2 + 3 + 3 + 2 + 4 + 1
"""Tax rates 2 (get, end); adjustments 2 (get, cancel); credit notes 3 (get, html, pdf); disputes 3
(get, review, resolve); payment methods 2 (get, token update); payments 4 (get, refund, reverse,
refunds); lockbox files 1 (get)."""

STATEMENT_ACCOUNT = "acct_01JD0S6Y4Q7V3J6C"
"""The account id the statement routes show as their example (api/statements.py)."""
_PERIOD = {
    "from": "on or before `to` (another field; default: today in the account's zone, stored)",
    "to": "at most five years after `from` (another field), on or after it",
}
_MONTHS = {
    "from": "on or before `to` (another field)",
    "to": "on or after `from`, at most 240 months after it (another field)",
}

_DUNNING_STEPS = {
    "steps": "in order of days past due (never decreasing), a write_off only last, each threshold in "
    "its currency's minor units (another field)",
}
_OVERLAP = "no overlap with a stored rate of the same country, region and tax code (stored)"
# Rules JSON Schema cannot state; a schema-valid request may be refused (422) for these fields only.
RULES_BEYOND_SCHEMA = {
    "POST /v1/tax-rates": {
        "effective_from": _OVERLAP,
        "effective_to": f"after effective_from (another field); {_OVERLAP}",
        "region": "not blank (spaces only)",
    },
    "POST /v1/tax-rates/{rate_id}/end": {
        "effective_to": "after the stored rate's effective_from and before its stored end",
    },
    "GET /v1/accounts/{account_id}/statements": _PERIOD,
    "GET /v1/accounts/{account_id}/statements/html": _PERIOD,
    "GET /v1/accounts/{account_id}/statements/pdf": _PERIOD,
    "POST /v1/adjustments": {
        "account_id": "an account the read model knows that is invoiced itself (stored)",
        "currency": "the account's currency (stored): currencies never mix",
        "amount": "positive, with at most the currency's minor units (another field)",
        "reason": "not blank (spaces only)",
        "direction": "a credit when kind is service_credit (another field)",
        "subscription_id": "a subscription billed to the account (stored); required by a service credit",
        "service_period_start": "set for a service credit only (kind, another field)",
        "service_period_end": "after service_period_start and not over yet (another field, today)",
        "invoice_id": "an issued invoice of the account (stored)",
    },
    "POST /v1/credit-notes": {
        "currency": "the invoice's currency (stored): currencies never mix",
        "lines": "amounts positive with the invoice currency's minor units, lines of the invoice (stored), "
        "asked once, totalling no more than remains creditable on it (stored)",
    },
    "POST /v1/disputes": {
        "charge_key": "a line of the invoice (stored)",
        "disputed_amount": "positive, with the invoice currency's minor units (stored)",
        "reason": "not blank (spaces only)",
    },
    "GET /v1/gl/journal": {"from": "on or before `to` (another field)", "to": "on or after `from`"},
    "GET /v1/revenue/waterfall": _MONTHS,
    "GET /v1/revenue/waterfall.svg": {
        **_MONTHS,
        "currency": "named when revenue of several currencies is stored",
    },
    "POST /v1/revenue/recognition-runs": {"month": "a month that has ended (today)"},
    "POST /v1/payment-methods": {
        "account_id": "an account the read model knows (stored)",
        "card": "set for a card only (kind, another field)",
        "mandate_id": "set for ACH only (kind, another field)",
        "ach": "set for ACH only (kind, another field)",
    },
    "POST /v1/payments": {
        "currency": "the account's currency (stored): currencies never mix",
        "amount": "positive, with at most the currency's minor units (another field)",
        "payment_method_id": "a method of the account (stored); required for card and ACH (method_kind)",
        "method_kind": "the stored method's kind (stored)",
        "invoice_ids": "open invoices of the account (stored), each named once",
        "received_on": "for a check or wire only (the stored method's kind)",
    },
    "POST /v1/payments/{payment_id}/refunds": {
        "amount": "positive, with the payment currency's minor units, no more than remains (stored)",
    },
    "POST /v1/lockbox-files": {
        "file": "UTF-8 CSV whose header names check_number, amount and deposit_date, with a line",
    },
    "POST /v1/lockbox-files/{file_id}/lines/{number}/apply": {
        "number": "a line whose amount and date could be read (stored)",
        "currency": "the line's currency is the account's (stored)",
        "amount": "the line's amount has the account currency's minor units (stored)",
        "invoice_ids": "open invoices of the account (stored), each named once",
    },
    "GET /v1/ar/aging": {"currency": "an active ISO 4217 currency code"},
    "GET /v1/ar/aging.svg": {
        "currency": "an active ISO 4217 currency code; named when receivables of several currencies "
        "are stored",
    },
    "GET /v1/metrics/finance": {
        **_MONTHS,
        "to": f"{_MONTHS['to']}; 9998-12 at the latest",
        "currency": "an active ISO 4217 currency code",
    },
    "GET /v1/metrics/mrr.svg": {
        **_MONTHS,
        "to": f"{_MONTHS['to']}; 9998-12 at the latest",
        "currency": "an active ISO 4217 currency code; named when several currencies are stored",
    },
    "POST /v1/dunning-policies": _DUNNING_STEPS,
    "PUT /v1/dunning-policies/{policy_id}": _DUNNING_STEPS,
    "POST /v1/disputes/{dispute_id}/resolve": {
        "amount": "set when the dispute named no amount (stored); positive, with minor units (stored)",
        "lines": "the credit no more than remains creditable on the invoice or its line (stored)",
    },
}


async def _invoices(database_url: str) -> None:
    """A draft, an issued and a void invoice, through the handlers a bill run calls."""
    runtime = bootstrap(invoicing_settings(database_url), clock=AUGUST_1)
    try:
        async with runtime.invoicing_unit_of_work() as uow:
            for account_id in ("acct_1", "acct_2", "acct_3", STATEMENT_ACCOUNT):
                await uow.billing_inputs.save_account(billing_account(account_id), event_at=AUGUST_1.now())
            await uow.commit()
        ids = []
        for account_id in ("acct_1", "acct_2", STATEMENT_ACCOUNT):
            async with runtime.invoicing_unit_of_work() as uow:
                outcome = await handlers.draft_invoice(
                    uow=uow,
                    account=billing_account(account_id),
                    currency="USD",
                    period_start=AUGUST[0],
                    period_end=AUGUST[1],
                    lines=[invoice_line("sub_1:2026-08", account_id=account_id)],
                )
                ids.append(outcome.invoice.id)
        for invoice_id in ids[1:]:
            async with runtime.invoicing_unit_of_work() as uow:
                await handlers.finalize_invoice(uow=uow, invoice_id=invoice_id)
        async with runtime.invoicing_unit_of_work() as uow:
            await handlers.void_invoice(uow=uow, invoice_id=ids[2], reason="seeded")
        async with runtime.invoicing_unit_of_work() as uow:
            read_model: BillingInputsReadModel = uow.billing_inputs
            await read_model.save_account(billing_account("acct_2"), event_at=uow.clock.now())
            await uow.commit()
    finally:
        await runtime.db.dispose()


def _seeder(database_url: str) -> Any:
    def seed(app: Any) -> dict[str, str]:
        with seed_client(app) as client:  # runs the lifespan: the tables exist
            rate = client.post(
                "/v1/tax-rates",
                json={"country": "GB", "rate": "20", "name": "VAT", "effective_from": "2026-01-01"},
            )
            assert rate.status_code == 201, rate.text
            run_sync(_invoices(database_url))
            listed = client.get("/v1/invoices")
            assert listed.status_code == 200 and len(listed.json()["data"]) == 3, listed.text
            issued = listed.json()["data"][1]["id"]
            seeded = {
                "/v1/adjustments": {
                    "account_id": "acct_2",
                    "currency": "USD",
                    "direction": "credit",
                    "amount": "25.00",
                    "reason": "Goodwill",
                },
                "/v1/credit-notes": {
                    "invoice_id": issued,
                    "currency": "USD",
                    "reason": "Seats",
                    "lines": [{"charge_key": "sub_1:2026-08", "amount": "100.00"}],
                },
                "/v1/disputes": {"invoice_id": issued, "reason": "Seats", "disputed_amount": "10.00"},
            }
            seeded["/v1/payment-methods"] = {
                "account_id": "acct_2",
                "kind": "card",
                "card": {
                    "token": "tok_visa_4242",
                    "brand": "visa",
                    "last_four": "4242",
                    "exp_month": 12,
                    "exp_year": 2030,
                },
            }
            seeded["/v1/payments"] = {
                "account_id": "acct_2",
                "amount": "50.00",
                "currency": "USD",
                "method_kind": "check",
            }
            made = {}
            for path, body in seeded.items():
                created = client.post(path, json=body)
                assert created.status_code == 201, created.text
                made[path] = str(created.json()["id"])
            lockbox = client.post(
                "/v1/lockbox-files",
                data=b"check_number,amount,invoice_number,account_id,deposit_date\n1,10.00,,acct_2,2026-08-01\n"
                b"2,5.00,INV-2099-000001,,2026-08-01\n",
                headers={"Content-Type": "text/csv"},
            )
            assert lockbox.status_code == 201, lockbox.text
        return {
            "rate_id": str(rate.json()["id"]),
            "invoice_id": listed.json()["data"][0]["id"],
            "adjustment_id": made["/v1/adjustments"],
            "credit_note_id": made["/v1/credit-notes"],
            "dispute_id": made["/v1/disputes"],
            "method_id": made["/v1/payment-methods"],
            "payment_id": made["/v1/payments"],
            "file_id": str(lockbox.json()["id"]),
        }

    return seed


# The service is fuzzed in areas that run side by side (pytest-xdist), each well within the test
# timeout; together they cover every operation (`test_the_areas_cover_every_operation`).
AREAS = {
    "billing": r"^/v1/(invoices|bill-runs|tax-rates|audit-log"
    r"|accounts/\{account_id\}/(invoice-preview|statements))",
    "credits": r"^/v1/(adjustments|credit-notes|disputes)",
    "payments": r"^/v1/(payments|payment-methods|lockbox-files)",
    "receivables": r"^/v1/(ar/|collections/|dunning-policies"
    r"|accounts/\{account_id\}/(balance|dunning-policy))",
    "revenue": r"^/v1/(revenue/|revenue-schedules)",
    "ledger": r"^/v1/(gl/|metrics/)",
    "platform": r"^/(healthz|readyz|metrics)$",
}


def _operations(app: Any, path_regex: str) -> int:
    return sum(
        method in ("get", "post", "put", "patch", "delete")
        for path, item in app.openapi()["paths"].items()
        if re.search(path_regex, path)
        for method in item
    )


@pytest.mark.parametrize("area", sorted(AREAS))
def test_no_request_yields_a_server_error_or_breaks_the_schema(database_url: str, area: str) -> None:
    app = create_app(invoicing_settings(database_url), clock=AUGUST_1)
    fuzz_every_operation(
        app,
        seed=_seeder(database_url),
        examples=EXAMPLES_PER_OPERATION,
        min_operations=_operations(app, AREAS[area]),
        rules_beyond_schema=RULES_BEYOND_SCHEMA,
        path_regex=AREAS[area],
    )


def test_the_areas_cover_every_operation(sqlite_url: str) -> None:
    paths = create_app(invoicing_settings(sqlite_url)).openapi()["paths"]
    areas_of = {path: [area for area, regex in AREAS.items() if re.search(regex, path)] for path in paths}
    assert {path: areas for path, areas in areas_of.items() if len(areas) != 1} == {}


def test_created_resources_link_to_what_can_be_done_with_them(sqlite_url: str) -> None:
    document = create_app(invoicing_settings(sqlite_url)).openapi()
    assert assert_links_follow_creation(document) >= MIN_LINKS
