"""The one clock of business dates (DESIGN §6 "Time").

Timestamps are aware UTC; a business date — the default effective date of a suspension, the day
a task or fulfillment completes, the day an order's terms start — is the date of "now" in the
account's IANA time zone: at 2026-11-30T12:00Z it is already 2026-12-01 in Pacific/Auckland and
still 2026-11-30 in America/Los_Angeles. Handlers read "now" from the `Clock` their unit of work
carries (`uow.clock`), so tests fix the time by giving the runtime or the fake a `FixedClock`;
nothing patches `datetime`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Protocol

from libs.platform.periods import local_date

UTC_ZONE: Final = "UTC"
"""The zone of business dates that belong to no account (the catalog's price lists and quotes)."""


class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant (tests, replays of a past day)."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"a fixed clock needs an aware instant, not {self.at.isoformat()}")

    def now(self) -> datetime:
        """The fixed instant, in UTC."""
        return self.at.astimezone(UTC)


SYSTEM_CLOCK: Final[Clock] = SystemClock()
"""The clock every runtime and unit of work uses unless it is given another."""


def business_date(time_zone: str, *, now: datetime | None = None) -> date:
    """The date at `now` (default: the current UTC time) in the IANA zone `time_zone`."""
    return local_date(now if now is not None else SYSTEM_CLOCK.now(), time_zone)
