"""The accounts' billing watermark, SQLite and PostgreSQL: a run of every account pages only the
accounts that may owe something on its bill date (issue 9's no-op rerun).

Expected amounts come from the business rules (EXAMPLES §6 and §7), not from the code under test:
- 300.00 a month in advance from 2026-04-16, cycle day 1: the 2026-05-01 run bills 150.00 for the
  15 days of April and 300.00 for May (no tax rate here);
- a second subscription from 2026-04-16 of the same plan, kept after May's invoice, goes on June's:
  150.00 + 300.00 + 300.00, with the first plan's 300.00 for June: 1,050.00;
- rated usage of April, 12,345 calls with 1,000 included, graduated → 107.59.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from invoicing.app import create_app
from invoicing.bootstrap import InvoicingRuntime
from invoicing.handlers import billing_inputs as read_model
from libs.contracts import provisioning
from libs.platform.clock import FixedClock
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import (
    account_opened,
    price_published,
    product_changed,
    subscription_event,
    usage_rated,
)
from tests.support.polling import eventually
from tests.support.services import auth, running_app

AT = datetime(2026, 4, 16, 12, tzinfo=UTC)
FINANCE = auth("finance")
ACCOUNTS = ("acct_a", "acct_b", "acct_c")


@pytest.fixture
async def invoicing(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, InvoicingRuntime]]:
    app = create_app(invoicing_settings(database_url), clock=FixedClock(datetime(2026, 5, 1, 6, tzinfo=UTC)))
    async with running_app(app) as client:
        runtime = app.state.runtime
        assert isinstance(runtime, InvoicingRuntime)
        yield client, runtime


async def _subscribe(runtime: InvoicingRuntime, account_id: str, subscription_id: str) -> None:
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_subscription_event(
            uow=uow,
            event=subscription_event(provisioning.SubscriptionActivated, subscription_id, account_id),
            event_id=str(uuid.uuid4()),
            occurred_at=AT,
            event_kind="subscription.activated",
        )


async def _feed(runtime: InvoicingRuntime) -> None:
    for account_id in ACCOUNTS:
        async with runtime.invoicing_unit_of_work() as uow:
            await read_model.apply_account_event(uow=uow, profile=account_opened(account_id), occurred_at=AT)
        await _subscribe(runtime, account_id, f"sub_{account_id}")


async def _april_usage(runtime: InvoicingRuntime, account_id: str) -> None:
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_usage_rated(
            uow=uow,
            events=[
                usage_rated(
                    f"ru_{account_id}",
                    account_id=account_id,
                    period_start=date(2026, 4, 1),
                    period_end=date(2026, 5, 1),
                    rated_at=datetime(2026, 5, 1, 0, 5, tzinfo=UTC),
                )
            ],
        )


async def _run(client: httpx.AsyncClient, bill_date: str) -> dict[str, Any]:
    started = await client.post("/v1/bill-runs", json={"bill_date": bill_date}, headers=FINANCE)
    assert started.status_code == 202, started.text

    async def probe() -> dict[str, Any]:
        return dict((await client.get(f"/v1/bill-runs/{started.json()['id']}", headers=FINANCE)).json())

    return await eventually(probe, until=lambda run: run["state"].startswith("completed"), timeout_s=60)


async def _totals(client: httpx.AsyncClient, account_id: str) -> list[str]:
    listed = await client.get("/v1/invoices", params={"account_id": account_id}, headers=FINANCE)
    assert listed.status_code == 200, listed.text
    return sorted(invoice["total"] for invoice in listed.json()["data"])


async def test_a_rerun_bills_nothing_and_reads_no_account(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = invoicing
    await _feed(runtime)
    first = await _run(client, "2026-05-01")
    assert (first["accounts_total"], first["invoices_created"]) == (3, 3)

    again = await _run(client, "2026-05-01")
    earlier = await _run(client, "2026-04-20")  # nothing due through May 1st: nothing through April 20th

    assert (again["state"], again["accounts_total"], again["invoices_created"]) == ("completed", 0, 0)
    assert (earlier["accounts_total"], earlier["invoices_created"]) == (0, 0)
    assert [await _totals(client, a) for a in ACCOUNTS] == [["450.00"]] * 3
    # The next period is due again: every account is read and billed 300.00.
    june = await _run(client, "2026-06-01")
    assert (june["accounts_total"], june["invoices_created"]) == (3, 3)
    assert await _totals(client, "acct_b") == ["300.00", "450.00"]


async def test_a_subscription_or_usage_kept_after_a_run_makes_its_account_due_again(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = invoicing
    await _feed(runtime)
    await _run(client, "2026-05-01")

    await _subscribe(runtime, "acct_a", "sub_acct_a_second")
    await _april_usage(runtime, "acct_c")
    again = await _run(client, "2026-05-01")

    # Read again, but May's invoice of each is issued (one per account, currency and month): the new
    # charges wait for June's; the accounts are not marked, as something is due on them.
    assert (again["accounts_total"], again["invoices_created"]) == (2, 0)
    assert (await _run(client, "2026-05-01"))["accounts_total"] == 2
    june = await _run(client, "2026-06-01")

    assert (june["accounts_total"], june["invoices_created"]) == (3, 3)
    # June: 300.00 for the first plan; the second's April 16-30 (150.00), May and June (600.00)
    assert await _totals(client, "acct_a") == ["1050.00", "450.00"]
    assert await _totals(client, "acct_b") == ["300.00", "450.00"]
    assert await _totals(client, "acct_c") == ["407.59", "450.00"]  # June's 300.00 + April's usage


async def test_usage_kept_while_a_chunk_bills_its_account_is_not_lost(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    """The chunk read the account's inputs (and their version) before the usage was kept; it then
    marks the account billed through the bill date: the mark must not hide the usage."""
    client, runtime = invoicing
    await _feed(runtime)
    async with runtime.invoicing_unit_of_work() as chunk:
        versions = await chunk.billing_inputs.watermark_versions(ACCOUNTS)
    assert set(versions) == set(ACCOUNTS)

    await _april_usage(runtime, "acct_b")  # commits while the chunk is billing

    async with runtime.invoicing_unit_of_work() as chunk:
        marked = await chunk.billing_inputs.mark_billed_through(versions, date(2026, 5, 1))
        await chunk.commit()
    assert marked == 2  # acct_a and acct_c; acct_b changed since its version was read

    run = await _run(client, "2026-05-01")

    assert (run["accounts_total"], run["invoices_created"]) == (1, 1)
    assert await _totals(client, "acct_b") == ["557.59"]  # 150.00 + 300.00 + 107.59


async def test_a_price_or_product_published_after_a_run_makes_the_accounts_charged_it_due_again(
    invoicing: tuple[httpx.AsyncClient, InvoicingRuntime],
) -> None:
    client, runtime = invoicing
    await _feed(runtime)
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_account_event(uow=uow, profile=account_opened("acct_other"), occurred_at=AT)
    async with runtime.invoicing_unit_of_work() as uow:  # the same plan at another price
        await read_model.apply_subscription_event(
            uow=uow,
            event=subscription_event(
                provisioning.SubscriptionActivated, "sub_other", "acct_other", price_id="price_other"
            ),
            event_id=str(uuid.uuid4()),
            occurred_at=AT,
            event_kind="subscription.activated",
        )
    await _run(client, "2026-05-01")

    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_price_published(
            uow=uow,
            event=price_published(
                "price_other",
                product_id="prod_plan",
                charge_type="recurring",
                billing_period="monthly",
                amount="300.00",
            ),
        )
    priced = await _run(client, "2026-05-01")
    async with runtime.invoicing_unit_of_work() as uow:
        await read_model.apply_product_changed(
            uow=uow,
            event=product_changed("prod_plan", change="updated", tax_code="SW052000"),
            occurred_at=datetime(2026, 4, 20, tzinfo=UTC),
        )
    changed = await _run(client, "2026-05-01")

    assert priced["accounts_total"] == 1  # acct_other alone is charged price_other
    assert changed["accounts_total"] == 4  # every account is charged prod_plan
    assert changed["invoices_created"] == 0 and (await _run(client, "2026-05-01"))["accounts_total"] == 0
