"""Adjustments: a credit or a debit applied to an account's next invoice (pre-billing).

An adjustment is stored *pending*; the bill run reads the pending ones of a chunk of accounts
(`PendingAdjustment`) and the charge calculation makes each a line keyed
`adjustment:{adjustment_id}` (a credit negative, a debit positive). It is *applied* once an
invoice line with that key exists on an invoice that is not void — derived from the invoice
lines, never stored, so a voided invoice puts its adjustments back to pending and the next run
bills them again. A pending adjustment may be cancelled; an applied one may not (correct the
issued invoice with a credit note instead).

Two kinds:
- a plain adjustment (goodwill, a correction): a credit, or a debit — a debit that corrects an
  issued invoice is a new one-time charge on the next invoice (it names the invoice it corrects,
  since a finalized invoice is never edited);
- a service credit: a credit tied to a subscription and one of its future service periods,
  reducing that period's charge: due from the period's first day, so it lands on the invoice
  that bills the period (in advance) or the one after (in arrears).

Amounts are positive, in the account's currency, with at most its minor units (DESIGN §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from invoicing.domain.billing_inputs import AdjustmentDirection, PendingAdjustment
from invoicing.domain.charge_lines import adjustment_key
from libs.platform.errors import Conflict, FieldErrors
from libs.platform.money import CurrencyMismatch, minor_units_problem, round_money

__all__ = [
    "Adjustment",
    "AdjustmentConflict",
    "AdjustmentDirection",
    "AdjustmentKind",
    "AdjustmentRecord",
    "AdjustmentState",
    "NewAdjustment",
    "adjustment_key",
]


class AdjustmentKind(StrEnum):
    """A plain adjustment, or a service credit against a subscription's future period."""

    ADJUSTMENT = "adjustment"
    SERVICE_CREDIT = "service_credit"


class AdjustmentState(StrEnum):
    """pending → applied (an invoice line bills it) | cancelled."""

    PENDING = "pending"
    APPLIED = "applied"
    CANCELLED = "cancelled"


class AdjustmentConflict(Conflict):
    """The adjustment's state forbids the change (409): cancelling an applied or cancelled one."""


@dataclass(frozen=True, slots=True)
class AdjustmentRecord:
    """Recorded when an adjustment is created or cancelled (`adjustment.created` / `.cancelled`)."""

    adjustment: Adjustment
    change: str
    """`created` or `cancelled`."""


@dataclass(eq=False)
class Adjustment:
    """A pre-billing credit or debit of one account; `events` holds what it recorded."""

    id: str
    account_id: str
    currency: str
    direction: AdjustmentDirection
    kind: AdjustmentKind
    amount: Decimal
    reason: str
    effective_date: date
    """The first bill date whose run applies it (a service credit: its period's first day)."""
    created_at: datetime
    subscription_id: str | None = None
    service_period_start: date | None = None
    service_period_end: date | None = None
    """Exclusive end of the service period a service credit reduces."""
    invoice_id: str | None = None
    """The issued invoice a post-billing debit corrects, if any."""
    dispute_id: str | None = None
    cancelled: bool = False
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    applied_invoice_id: str | None = None
    """The invoice (not void) whose line bills it: derived from the invoice lines when read."""
    version: int = 0
    events: list[AdjustmentRecord] = field(default_factory=list)

    @classmethod
    def create(cls, **fields: object) -> Adjustment:
        """A new pending adjustment; refuses a non-positive or unrounded amount, and a service credit
        that is not a credit of one subscription's period."""
        adjustment = cls(**fields)  # type: ignore[arg-type]
        adjustment._check()
        # Held with exactly the currency's minor units ("25" is kept as 25.00), as invoice lines are.
        adjustment.amount = round_money(adjustment.amount, adjustment.currency)
        adjustment.events.append(AdjustmentRecord(adjustment, "created"))
        return adjustment

    @property
    def state(self) -> AdjustmentState:
        """Cancelled, applied (an invoice that is not void bills it) or pending."""
        if self.cancelled:
            return AdjustmentState.CANCELLED
        if self.applied_invoice_id is not None:
            return AdjustmentState.APPLIED
        return AdjustmentState.PENDING

    @property
    def charge_key(self) -> str:
        """The key of the invoice line that applies it."""
        return adjustment_key(self.id)

    @property
    def signed_amount(self) -> Decimal:
        """What it adds to the invoice: negative for a credit."""
        return -self.amount if self.direction is AdjustmentDirection.CREDIT else self.amount

    def cancel(self, *, reason: str | None, at: datetime) -> None:
        """Cancel a pending adjustment; an applied or cancelled one is a 409."""
        if self.state is not AdjustmentState.PENDING:
            applied = f" on invoice {self.applied_invoice_id}" if self.applied_invoice_id else ""
            raise AdjustmentConflict(
                f"adjustment {self.id!r} is {self.state.value}{applied}: only a pending one can be "
                "cancelled; correct an issued invoice with a credit note"
            )
        self.cancelled = True
        self.cancelled_at = at
        self.cancel_reason = reason
        self.events.append(AdjustmentRecord(self, "cancelled"))

    def pending(self) -> PendingAdjustment:
        """What the charge calculation bills of it."""
        return PendingAdjustment(
            adjustment_id=self.id,
            account_id=self.account_id,
            currency=self.currency,
            direction=self.direction,
            amount=round_money(self.amount, self.currency),
            description=self.reason,
            effective_date=self.effective_date,
            subscription_id=self.subscription_id,
        )

    def _check(self) -> None:
        errors = FieldErrors()
        problem = minor_units_problem(self.amount, self.currency)
        if problem is not None:
            errors.add("amount", problem)
        elif self.amount <= 0:
            errors.add("amount", "an adjustment is a positive amount; its direction gives the sign")
        if not self.reason.strip():
            errors.add("reason", "say why the account is adjusted")
        if self.kind is AdjustmentKind.SERVICE_CREDIT:
            if self.direction is not AdjustmentDirection.CREDIT:
                errors.add("direction", "a service credit is a credit")
            if self.subscription_id is None:
                errors.add("subscription_id", "a service credit reduces one subscription's charge")
            if self.service_period_start is None or self.service_period_end is None:
                errors.add("service_period_start", "a service credit names the period it reduces")
            elif self.service_period_end <= self.service_period_start:
                errors.add("service_period_end", "the period ends after it starts")
        elif self.service_period_start is not None or self.service_period_end is not None:
            errors.add("service_period_start", "only a service credit names a service period")
        errors.raise_if_any("The adjustment is not valid")


@dataclass(frozen=True)
class NewAdjustment:
    """What a caller asks for; the account's currency is checked against `currency`."""

    account_id: str
    currency: str
    direction: AdjustmentDirection
    amount: Decimal
    reason: str
    kind: AdjustmentKind = AdjustmentKind.ADJUSTMENT
    effective_date: date | None = None
    subscription_id: str | None = None
    service_period_start: date | None = None
    service_period_end: date | None = None
    invoice_id: str | None = None


def require_currency(
    adjustment_currency: str, account_currency: str, *, field_name: str = "currency"
) -> None:
    """Refuse (422) an amount in another currency than the account's: currencies never mix."""
    if adjustment_currency != account_currency:
        raise CurrencyMismatch.single(
            field_name,
            f"the account bills in {account_currency}, not {adjustment_currency}: currencies never mix",
            "currency_mismatch",
        )
