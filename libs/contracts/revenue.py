"""Revenue recognition: what invoicing publishes on `invoicing.events` when a month's deferred
revenue is recognised in its general ledger.

`revenue.recognized` is sent once per recognition posting (a month and a currency): the amount
moved from deferred revenue to revenue and the journal entry that booked it. A run repeated for a
month posts (and sends) only what was not posted yet. Amounts are decimal strings with the
currency's minor units.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import INVOICING_EVENTS
from libs.contracts.types import Amount, CurrencyCode


@event_type("revenue.recognized", topic=INVOICING_EVENTS)
class RevenueRecognized(EventPayload):
    """A month's deferred revenue of one currency was recognised (Dr deferred revenue, Cr revenue)."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])
    currency: CurrencyCode
    amount: Amount = Field(description="What was recognised by this posting.")
    journal_entry_id: str = Field(examples=["je_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    entry_date: date = Field(description="The month's last day: the date of the journal entry.")
    schedule_months: int = Field(ge=0, description="How many schedule months the posting covers.")
    posted_at: datetime


__all__ = ["RevenueRecognized"]
