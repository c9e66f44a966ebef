"""Bill runs: the chunks of accounts a run fans out over the invoicing replicas, and its end.

- `bill_run.chunk_requested` travels on `invoicing.events`, keyed by the chunk's first account:
  one message per chunk of up to BILL_RUN_CHUNK_ACCOUNTS accounts, written to the outbox in the
  same transaction as the run's enumeration progress. The invoicing consumer group
  `invoicing.bill_runs` bills each chunk once (inbox, and the chunk's id is unique in its run),
  so the chunks of one run are shared by every invoicing replica in the group.
- `bill_run.completed` says a run is over: its counts and the amounts invoiced per currency.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import INVOICING_EVENTS
from libs.contracts.types import Amount, CurrencyCode

MAX_CHUNK_ACCOUNTS = 5000


@event_type("bill_run.chunk_requested", topic=INVOICING_EVENTS)
class BillRunChunkRequested(EventPayload):
    """A chunk of a bill run's accounts to bill (invoicing's own work, spread over its replicas)."""

    run_id: str = Field(examples=["brun_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    chunk_id: int = Field(ge=1, description="The chunk's number in its run (1, 2, … in enumeration order).")
    bill_date: date
    account_ids: list[str] = Field(min_length=1, max_length=MAX_CHUNK_ACCOUNTS)


class CurrencyAmount(EventPayload):
    """Invoices created in one currency and their total."""

    currency: CurrencyCode
    invoices: int = Field(ge=0)
    amount: Amount


@event_type("bill_run.completed", topic=INVOICING_EVENTS)
class BillRunCompleted(EventPayload):
    """A bill run is over: what it billed, per currency, and how many accounts failed."""

    run_id: str = Field(examples=["brun_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    bill_date: date
    kind: Literal["scheduled", "on_demand", "fulfillment"]
    state: Literal["completed", "completed_with_failures"]
    dry_run: bool = False
    accounts_total: int = Field(ge=0)
    invoices_created: int = Field(ge=0)
    failures: int = Field(ge=0)
    amounts: list[CurrencyAmount] = Field(default_factory=list)
    fulfillment_id: str | None = None
