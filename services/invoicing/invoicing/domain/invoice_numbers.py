"""Invoice numbers: `INV-YYYY-NNNNNN`, sequential without gaps in each series (DESIGN §6, §7).

A series is a prefix and the year of the invoice date (`INV-2026`); its numbers count from 1.
The counter is one row per series, incremented inside the transaction that finalizes the
invoice (the repository's `next_number`): a finalization that rolls back takes its increment
back with it, so no number is ever skipped. A database sequence would not do: it hands out
numbers outside the transaction and leaves a gap for every rollback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

INVOICE_PREFIX: Final = "INV"
CREDIT_NOTE_PREFIX: Final = "CN"
NUMBER_DIGITS: Final = 6
_NUMBER_RE: Final = re.compile(r"^(?P<series>[A-Z]{2,4}-[0-9]{4})-(?P<sequence>[0-9]{6,})$")


@dataclass(frozen=True, slots=True)
class DocumentNumber:
    """One assigned number: its series (`INV-2026`) and its place in it (42 → `INV-2026-000042`)."""

    series: str
    sequence: int

    def __post_init__(self) -> None:
        if self.sequence < 1:
            raise ValueError(f"a sequence starts at 1, not {self.sequence}")

    @property
    def text(self) -> str:
        """The number as printed on the document."""
        return f"{self.series}-{self.sequence:0{NUMBER_DIGITS}d}"


def invoice_series(invoice_date: date) -> str:
    """The series an invoice dated `invoice_date` is numbered in (`INV-2026`)."""
    return f"{INVOICE_PREFIX}-{invoice_date.year:04d}"


def credit_note_series(note_date: date) -> str:
    """The series a credit note dated `note_date` is numbered in (`CN-2026`)."""
    return f"{CREDIT_NOTE_PREFIX}-{note_date.year:04d}"


def parse_number(text: str) -> DocumentNumber | None:
    """The series and sequence of a printed number (`INV-2026-000042`), or None if it is not one."""
    match = _NUMBER_RE.match(text)
    if match is None:
        return None
    return DocumentNumber(match["series"], int(match["sequence"]))
