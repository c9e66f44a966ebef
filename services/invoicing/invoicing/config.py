"""Settings of the invoicing service."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field

from invoicing.domain.ledger import ChartOfAccounts
from libs.contracts.bill_runs import MAX_CHUNK_ACCOUNTS
from libs.platform.settings import ServiceSettings


class InvoicingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/invoicing.db."""

    service_name: str = "invoicing"
    port: int = 8004
    # Who issues the invoices: printed at the top of every invoice document (HTML and PDF).
    issuer_name: str = "Billing & Collections Engine (set ISSUER_NAME)"
    issuer_address: str = ""
    """Postal address, one line per line ("\n" between them)."""
    issuer_tax_id: str = ""
    issuer_email: str = ""
    issuer_payment_instructions: str = ""
    """How to pay (bank account, remittance address), printed under the totals."""

    sqlite_heap_limit_mib: int = Field(default=16, ge=0)
    """SQLite's memory in the process (libs/platform/settings.py): a bill run writes far more than
    it reads again, so a small cache costs it nothing measurable and keeps it from growing with
    the accounts (bench billrun 16,000 accounts, one process: peak RSS 213 MiB with 96, 193 with
    16; 3.05 ms CPU an invoice with 16, load 12.5)."""

    consumer_fetch_max_kib: int = Field(default=1024, ge=1024)
    """The most a consumer's fetch brings back (libs/platform/inbox.py FETCH_MAX_BYTES; 50 MiB by
    default). During a bill run the `invoicing.bill_runs` and `invoicing.ledger` groups read
    `invoicing.events` behind the run and held full fetches: `make bench-billrun` at 50,000
    accounts, one process, peak RSS 231 MiB with the default, 203 MiB with 1 MiB, at the same
    CPU an invoice (0.79 against 0.91 ms, load 5-9)."""

    # Bill runs (issue 9; invoicing.handlers.bill_run_chunks says how a run's work is done).
    bill_run_chunk_accounts: int = Field(default=500, ge=1, le=MAX_CHUNK_ACCOUNTS)
    """Accounts per chunk: one `bill_run.chunk_requested` message, billed in one transaction."""
    bill_run_chunks_per_poll: int = Field(default=4, ge=1, le=500)
    """Chunks the `invoicing.bill_runs` consumer takes per poll (one transaction)."""
    bill_run_prepared_chunks: bool = False
    """On SQLite, read and draft each chunk before its write turn, the turns of every process on
    the database file queued on a file lock (`bill_run_chunks.prepare_chunk`). Off by default:
    `make bench-billrun` on a loaded two-core machine measured it slower, one process and two
    (see docs/invoicing.md)."""
    bill_run_poll_s: float = Field(default=1.0, ge=0)
    """How often this process looks for runs to enumerate and runs to complete (0: never; another
    replica does)."""
    bill_run_lease_s: float = Field(default=60.0, gt=0)
    """A run whose enumerating worker has not committed a page for this long is taken over."""
    bill_run_schedule_enabled: bool = True
    """Start the day's scheduled run by itself (tests turn it off)."""
    bill_run_schedule_hour_utc: int = Field(default=12, ge=0, le=23)
    """The UTC hour from which the day's scheduled run is started (12: the date has begun in every
    time zone from UTC-12 on; see `invoicing.domain.bill_runs.scheduled_bill_date`)."""
    bill_run_schedule_interval_s: float = Field(default=300.0, gt=0)
    """How often the schedule looks whether the day's run is due."""

    # The general ledger (issue 10; invoicing.domain.ledger). The chart maps each role to an
    # account: 1000 Cash, 1100 Accounts receivable, 2200 Tax payable, 2300 Customer credit,
    # 2400 Deferred revenue, 4000 Revenue, 6100 Bad debt expense unless overridden here.
    ledger_chart_of_accounts: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Overrides by role, as JSON: LEDGER_CHART_OF_ACCOUNTS='{"cash": {"code": "1010", "name": "Bank"}}'."""
    ledger_chart_of_accounts_file: Path | None = None
    """A JSON file of the same overrides (read at start; the environment's win over the file's)."""

    def chart_of_accounts(self) -> ChartOfAccounts:
        """The chart the ledger posts to: the default, overridden by the file, then by the environment."""
        overrides: dict[str, dict[str, str]] = {}
        if self.ledger_chart_of_accounts_file is not None:
            overrides.update(json.loads(self.ledger_chart_of_accounts_file.read_text(encoding="utf-8")))
        overrides.update(self.ledger_chart_of_accounts)
        return ChartOfAccounts.with_overrides(overrides)

    # Payments (issue 10; invoicing.handlers.payments).
    payment_retry_interval_s: float = Field(default=3600.0, ge=0)
    """How often this process runs the declined-payment retries due today (UTC); a run of a day is
    idempotent, so hourly runs retry each payment once on its day (0: never; another replica does)."""
    # Collections (issue 10; invoicing.handlers.collections says what a run does).
    collections_schedule_enabled: bool = True
    """Run the day's collections by itself, once a day per process (a run repeated changes nothing)."""
    collections_schedule_hour_utc: int = Field(default=13, ge=0, le=23)
    """The UTC hour from which the day's collections run is due (after the day's bill run)."""
    collections_schedule_interval_s: float = Field(default=300.0, gt=0)
    """How often the schedule looks whether the day's collections run is due."""
