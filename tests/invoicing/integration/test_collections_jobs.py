"""The daily collections job and `python -m invoicing.cli collections-run` on SQLite and PostgreSQL:
the same run as the API's, a page of accounts per transaction; the job runs a date once, from its
hour; the read model keeps the account's CRM owner from provisioning's account events."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from invoicing.bootstrap import bootstrap
from invoicing.cli import collections_run
from invoicing.handlers.billing_inputs import billing_account_of
from libs.contracts.provisioning import AccountOpened, ContactInfo, TaxInfo
from libs.platform.clock import FixedClock
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.integration.receivables_book import FINANCE, Book, book_fixture  # noqa: F401

REMINDER_AT_1_DAY = {
    "name": "Remind",
    "is_default": True,
    "steps": [{"days_past_due": 1, "action": "reminder"}, {"days_past_due": 30, "action": "suspend"}],
}


async def test_the_cli_runs_collections_for_a_date_and_a_repeat_changes_nothing(book: Book) -> None:
    await book.client.post("/v1/dunning-policies", json=REMINDER_AT_1_DAY, headers=FINANCE)
    await book.issue("sep", "500.00", on=date(2026, 9, 1))  # due 2026-10-01

    out = io.StringIO()
    assert await collections_run(book.invoicing.runtime, date(2026, 10, 31), out=out) == 0
    assert await collections_run(book.invoicing.runtime, date(2026, 10, 31), out=out) == 0

    first, second = out.getvalue().splitlines()
    assert first.startswith("collections 2026-10-31: 1 accounts  cases opened 1  closed 0")
    assert "steps: reminder 1  suspend 1" in first
    assert "cases opened 0  closed 0  steps: none" in second
    assert len(await book.invoicing.outbox("collections.suspend_requested")) == 1


async def test_the_daily_job_runs_the_days_collections_once_from_its_hour(
    book: Book, database_url: str
) -> None:
    await book.client.post("/v1/dunning-policies", json=REMINDER_AT_1_DAY, headers=FINANCE)
    await book.issue("sep", "500.00", on=date(2026, 9, 1))

    async def job_at(hour: int) -> object:
        settings = invoicing_settings(database_url, collections_schedule_enabled=True, migrate_on_start=False)
        runtime = bootstrap(settings, clock=FixedClock(datetime(2026, 10, 2, hour, tzinfo=UTC)))
        try:
            job = next(j for j in runtime.periodic_jobs if j.name == "collections.schedule")
            return [await job.run(), await job.run()]
        finally:
            await runtime.db.dispose()

    assert await job_at(12) == [None, None]  # before 13:00 UTC
    ran, again = await job_at(13)  # type: ignore[misc]
    assert (ran.on, ran.cases_opened, dict(ran.steps_taken)) == (date(2026, 10, 2), 1, {"reminder": 1})
    assert again is None  # this process ran the date already
    assert len(await book.invoicing.outbox("collections.reminder_requested")) == 1


def test_the_read_model_keeps_the_accounts_crm_owner() -> None:
    opened = AccountOpened(
        account_id="acct_1",
        customer_id="cus_1",
        name="Acme Workforce Inc.",
        currency="USD",
        bill_cycle_day=1,
        time_zone="America/New_York",
        payment_terms_days=30,
        delivery="email",
        tax=TaxInfo(treatment="taxable", country="US"),
        contacts=[
            ContactInfo(name="Accounts Payable", email="ap@acme.example", role="billing"),
            ContactInfo(name="Dana Whitfield", email="dana.whitfield@northwind.example", role="crm_owner"),
        ],
    )

    account = billing_account_of(opened)

    assert (account.billing_email, account.crm_owner_name, account.crm_owner_email) == (
        "ap@acme.example",
        "Dana Whitfield",
        "dana.whitfield@northwind.example",
    )
