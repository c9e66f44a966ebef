"""`/v1/bill-runs` and the invoice preview on a real database, one process without a bus (it does
a run's work itself): start (202, Location, Idempotency-Key), follow, list, failures, retry,
dry run, preview, and the errors a caller can make."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime, bootstrap
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.integration.fake_billing import (
    TEST_INVOICES,
    FakeAccountsDirectory,
    SqlFakeAccountBilling,
    create_test_invoices,
)
from tests.support.polling import eventually
from tests.support.services import auth, running_app

ACCOUNTS = [f"acct_{n:04d}" for n in range(250)]
REASON = "the account's currency EUR does not match its parent's USD"


@pytest.fixture
async def wired(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, InvoicingRuntime]]:
    """Invoicing with the stand-in biller and accounts directory, bus off."""
    directory = FakeAccountsDirectory(ACCOUNTS)
    runtime = bootstrap(
        invoicing_settings(database_url),
        account_billing=SqlFakeAccountBilling(raising={"acct_0100": REASON}),
        billable_accounts=lambda _uow: directory,
    )
    async with running_app(create_app(runtime=runtime)) as client:
        await create_test_invoices(runtime.db)
        yield client, runtime


async def _finished(client: httpx.AsyncClient, run_id: str) -> Any:
    async def probe() -> Any:
        return (await client.get(f"/v1/bill-runs/{run_id}", headers=auth("ops"))).json()

    return await eventually(probe, until=lambda r: r["state"].startswith("completed"), timeout_s=60)


async def _invoice_rows(runtime: InvoicingRuntime) -> int:
    async with runtime.db.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(TEST_INVOICES))).scalar_one())


async def test_a_run_is_started_once_followed_and_its_failures_retried(
    wired: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = wired
    headers = {**auth("finance"), "Idempotency-Key": "aug-run"}
    started = await client.post("/v1/bill-runs", json={"bill_date": "2026-08-01"}, headers=headers)
    replayed = await client.post("/v1/bill-runs", json={"bill_date": "2026-08-01"}, headers=headers)
    assert started.status_code == replayed.status_code == 202
    run = started.json()
    assert replayed.json()["id"] == run["id"]
    assert (run["state"], run["kind"], run["dry_run"], run["accounts_listed"]) == (
        "pending",
        "on_demand",
        False,
        None,
    )

    done = await _finished(client, run["id"])
    assert (done["state"], done["accounts_done"], done["invoices_created"], done["failures"]) == (
        "completed_with_failures",
        250,
        249,
        1,
    )
    assert done["amounts"] == [{"currency": "USD", "invoices": 249, "amount": "24900.00"}]
    assert done["percent"] == 100.0 and done["enumerated"] is True
    assert await _invoice_rows(runtime) == 249
    listed = await client.get(
        "/v1/bill-runs", params={"state": "completed_with_failures"}, headers=auth("ops")
    )
    assert [r["id"] for r in listed.json()["data"]] == [run["id"]]

    failures = await client.get(
        f"/v1/bill-runs/{run['id']}/failures", params={"limit": 1}, headers=auth("ops")
    )
    assert failures.json()["data"] == [{"account_id": "acct_0100", "reason": REASON}]
    assert failures.json()["has_more"] is False

    billing = runtime.account_billing
    assert isinstance(billing, SqlFakeAccountBilling)
    billing.raising.clear()  # the price was fixed
    retry = await client.post(f"/v1/bill-runs/{run['id']}/retry-failures", headers=auth("finance"))
    assert retry.status_code == 202 and retry.json()["retry_of"] == run["id"]
    retried = await _finished(client, retry.json()["id"])
    assert (retried["state"], retried["accounts_done"], retried["invoices_created"]) == ("completed", 1, 1)
    assert await _invoice_rows(runtime) == 250
    again = await client.post(f"/v1/bill-runs/{retry.json()['id']}/retry-failures", headers=auth("finance"))
    assert again.status_code == 409


async def test_a_dry_run_and_a_preview_store_nothing(
    wired: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = wired
    dry = await client.post(
        "/v1/bill-runs",
        json={"bill_date": "2026-08-01", "dry_run": True, "account_ids": ["acct_0002", "acct_0001"]},
        headers=auth("finance"),
    )
    done = await _finished(client, dry.json()["id"])
    assert (done["dry_run"], done["accounts_listed"], done["invoices_created"]) == (True, 2, 2)
    assert done["amounts"] == [{"currency": "USD", "invoices": 2, "amount": "200.00"}]

    preview = await client.get(
        "/v1/accounts/acct_0001/invoice-preview", params={"bill_date": "2026-08-01"}, headers=auth("ops")
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["invoices"] == [
        {
            "currency": "USD",
            "period_start": "2026-08-01",
            "period_end": "2026-09-01",
            "subtotal": None,
            "tax": None,
            "total": "100.00",
            "existing_invoice_id": None,
            "lines": [],
        }
    ]
    refused = await client.get("/v1/accounts/acct_0100/invoice-preview", headers=auth("ops"))
    assert refused.status_code == 422 and REASON in refused.text
    assert await _invoice_rows(runtime) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"bill_date": 20260801},
        {"bill_date": "2026-02-30"},
        {"bill_date": "2026-08-01", "account_ids": ["acct_1", "acct_1"]},
        {"bill_date": "2026-08-01", "account_ids": []},
        {"bill_date": "2026-08-01", "dry_run": "yes"},
        {"bill_date": "2026-08-01", "accounts": ["acct_1"]},
    ],
)
async def test_a_run_that_cannot_be_started_is_refused(
    wired: tuple[httpx.AsyncClient, InvoicingRuntime], body: dict[str, Any]
) -> None:
    client, _ = wired
    response = await client.post("/v1/bill-runs", json=body, headers=auth("finance"))
    assert response.status_code == 422, response.text
    assert (await client.get("/v1/bill-runs", headers=auth("ops"))).json()["data"] == []


async def test_unknown_runs_and_roles(wired: tuple[httpx.AsyncClient, InvoicingRuntime]) -> None:
    client, _ = wired
    assert (await client.get("/v1/bill-runs/brun_nothing", headers=auth("ops"))).status_code == 404
    assert (await client.get("/v1/bill-runs/brun_nothing/failures", headers=auth("ops"))).status_code == 404
    assert (
        await client.post("/v1/bill-runs/brun_nothing/retry-failures", headers=auth("finance"))
    ).status_code == 404
    ops = await client.post("/v1/bill-runs", json={"bill_date": "2026-08-01"}, headers=auth("ops"))
    assert ops.status_code == 403


async def test_without_account_billing_runs_are_refused_with_503(sqlite_url: str) -> None:
    runtime = bootstrap(invoicing_settings(sqlite_url), account_billing=None, billable_accounts=None)
    async with running_app(create_app(runtime=runtime)) as client:
        started = await client.post(
            "/v1/bill-runs", json={"bill_date": "2026-08-01"}, headers=auth("finance")
        )
        preview = await client.get("/v1/accounts/acct_1/invoice-preview", headers=auth("ops"))
        listed = await client.get("/v1/bill-runs", headers=auth("ops"))
    assert started.status_code == preview.status_code == 503
    assert started.json()["code"] == "bill_runs_not_wired"
    assert listed.json()["data"] == []
