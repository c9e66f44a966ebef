"""Settings of the invoicing service."""

from __future__ import annotations

from pydantic import Field

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

    # Bill runs (issue 9; invoicing.handlers.bill_run_chunks says how a run's work is done).
    bill_run_chunk_accounts: int = Field(default=500, ge=1, le=MAX_CHUNK_ACCOUNTS)
    """Accounts per chunk: one `bill_run.chunk_requested` message, billed in one transaction."""
    bill_run_chunks_per_poll: int = Field(default=4, ge=1, le=500)
    """Chunks the `invoicing.bill_runs` consumer takes per poll (one transaction)."""
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

    # Collections (issue 10; invoicing.handlers.collections says what a run does).
    collections_schedule_enabled: bool = True
    """Run the day's collections by itself, once a day per process (a run repeated changes nothing)."""
    collections_schedule_hour_utc: int = Field(default=13, ge=0, le=23)
    """The UTC hour from which the day's collections run is due (after the day's bill run)."""
    collections_schedule_interval_s: float = Field(default=300.0, gt=0)
    """How often the schedule looks whether the day's collections run is due."""
