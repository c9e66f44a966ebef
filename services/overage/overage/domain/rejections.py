"""How refused webhook calls are recorded without a flood filling the database.

A refusal is identical to a recorded one when the vendor (as named in the path), the reason, the
answer's status and the body's SHA-256 are the same and the record was first seen less than
`window_s` ago: it is counted on that record (`count`, `last_seen_at`), not stored again. So that
a flood of *different* bodies cannot fill the table either, at most `records_per_window` records
of one reason are started per window; past that a refusal is counted on the reason's latest
record of the window (its count then includes calls with other bodies or vendors). Nothing is
dropped: every refusal is answered and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final


@dataclass(frozen=True)
class RejectionPolicy:
    """The window identical refusals are counted in, and the records one reason may start in it."""

    window_s: float = 300.0
    records_per_window: int = 100

    def window_start(self, at: datetime) -> datetime:
        """Records first seen from this instant on are in the window of a refusal at `at`."""
        return at - timedelta(seconds=self.window_s)

    def flooded(self, records_of_reason_in_window: int) -> bool:
        """True when the reason has started all the records a window allows."""
        return records_of_reason_in_window >= self.records_per_window


DEFAULT_REJECTION_POLICY: Final = RejectionPolicy()
