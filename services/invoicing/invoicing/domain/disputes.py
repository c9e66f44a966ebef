"""Disputes: a customer contests an issued invoice or one of its lines; finance reviews and resolves.

open → under_review → resolved_credit | rejected (a dispute may also be resolved straight from
open). Resolving with a credit issues a credit note for the agreed net amount (on the disputed
line, or against the whole invoice), so the dispute and the note commit together; a rejection
changes no money. One dispute at a time per invoice line (or per whole invoice): a second open
one is a 409, enforced by the database too (`uq_disputes_open_line`). A draft or void invoice is
not disputed (409).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from invoicing.domain.credit_notes import require_creditable
from invoicing.domain.invoices import Invoice
from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.money import minor_units_problem


class DisputeState(StrEnum):
    """Where a dispute is in its life."""

    OPEN = "open"
    UNDER_REVIEW = "under_review"
    RESOLVED_CREDIT = "resolved_credit"
    REJECTED = "rejected"


class DisputeOutcome(StrEnum):
    """How a dispute ends."""

    CREDIT = "credit"
    REJECT = "reject"


ACTIVE_STATES = frozenset({DisputeState.OPEN, DisputeState.UNDER_REVIEW})


class DisputeConflict(Conflict):
    """The dispute's state forbids the change (409), or the line is disputed already."""


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """Recorded when a dispute is opened, taken under review or resolved (`dispute.*`)."""

    dispute: Dispute
    change: str
    """`opened`, `under_review` or `resolved`."""


@dataclass(eq=False)
class Dispute:
    """A dispute on an issued invoice (or one line of it); `events` holds what it recorded."""

    id: str
    invoice_id: str
    invoice_number: str
    account_id: str
    currency: str
    reason: str
    opened_at: datetime
    charge_key: str | None = None
    """The disputed line; None: the whole invoice."""
    disputed_amount: Decimal | None = None
    """What the customer contests (net), if they said."""
    state: DisputeState = DisputeState.OPEN
    resolution_note: str | None = None
    credited_amount: Decimal | None = None
    credit_note_id: str | None = None
    resolved_at: datetime | None = None
    version: int = 0
    events: list[DisputeRecord] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        *,
        id: str,
        invoice: Invoice,
        reason: str,
        at: datetime,
        charge_key: str | None = None,
        disputed_amount: Decimal | None = None,
    ) -> Dispute:
        """Open a dispute on an issued invoice (a draft or void one is a 409), or on one of its lines."""
        require_creditable(invoice)
        errors = FieldErrors()
        if charge_key is not None and all(line.charge_key != charge_key for line in invoice.lines):
            errors.add("charge_key", f"invoice {invoice.number_text} has no line {charge_key!r}")
        if disputed_amount is not None:
            problem = minor_units_problem(disputed_amount, invoice.currency)
            if problem is not None or disputed_amount <= 0:
                errors.add("disputed_amount", problem or "a disputed amount is positive")
        if not reason.strip():
            errors.add("reason", "say what the customer disputes")
        errors.raise_if_any("The dispute is not valid")
        dispute = cls(
            id=id,
            invoice_id=invoice.id,
            invoice_number=invoice.number_text or invoice.id,
            account_id=invoice.account_id,
            currency=invoice.currency,
            reason=reason,
            opened_at=at,
            charge_key=charge_key,
            disputed_amount=disputed_amount,
        )
        dispute.events.append(DisputeRecord(dispute, "opened"))
        return dispute

    @property
    def line_key(self) -> str:
        """What one dispute at a time is held per: the line's charge key, "" for the whole invoice."""
        return self.charge_key or ""

    def start_review(self) -> None:
        """Take an open dispute under review."""
        if self.state is not DisputeState.OPEN:
            raise DisputeConflict(
                f"dispute {self.id!r} is {self.state.value}: only an open one is taken under review"
            )
        self.state = DisputeState.UNDER_REVIEW
        self.events.append(DisputeRecord(self, "under_review"))

    def require_active(self) -> None:
        """Refuse (409) a dispute already resolved."""
        if self.state not in ACTIVE_STATES:
            raise DisputeConflict(f"dispute {self.id!r} is {self.state.value} already")

    def resolve(
        self,
        *,
        outcome: DisputeOutcome,
        note: str | None,
        at: datetime,
        credited_amount: Decimal | None = None,
        credit_note_id: str | None = None,
    ) -> None:
        """End the dispute: with the credit note issued for it, or rejected."""
        self.require_active()
        if outcome is DisputeOutcome.CREDIT:
            if credit_note_id is None or credited_amount is None:
                raise ValidationFailed.single("amount", "a credit outcome issues a credit note")
            self.state = DisputeState.RESOLVED_CREDIT
            self.credit_note_id = credit_note_id
            self.credited_amount = credited_amount
        else:
            self.state = DisputeState.REJECTED
        self.resolution_note = note
        self.resolved_at = at
        self.events.append(DisputeRecord(self, "resolved"))


def credit_amount_of(dispute: Dispute, amount: Decimal | None) -> Decimal:
    """The net amount to credit: the agreed `amount`, else what the customer disputed (422 if neither)."""
    agreed = amount if amount is not None else dispute.disputed_amount
    if agreed is None:
        raise ValidationFailed.single("amount", "say what amount is credited (the dispute named none)")
    return agreed
