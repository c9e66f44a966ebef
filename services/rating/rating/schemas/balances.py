"""Requests and views of prepaid balances (`/v1/balances`).

Money travels as JSON strings in the currency's minor units (`amount`), units as quantities
(`quantity`: an integer or a decimal string). A money balance takes `amount`, a units balance
`quantity`; the other one is a 422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from libs.contracts.balances import (
    BalanceKind,
    BalanceState,
    BalanceTransactionKind,
    RolloverPolicy,
)
from libs.contracts.types import CurrencyCode, IsoDate, NonNegativeAmount, Percent, Quantity, UnitPrice
from libs.contracts.usage import MeterCode, Reference
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out
from libs.platform.openapi import SET, UNSET, one_case_per
from libs.platform.text import ONE_LINE
from rating.domain.balances import DEFAULT_THRESHOLDS, MAX_THRESHOLDS, Balance, Grant, Transaction

REQUEST = ConfigDict(extra="forbid")

UnitLabel = Annotated[
    str, StringConstraints(min_length=1, max_length=40), ONE_LINE, Field(examples=["hours", "calls"])
]
DrawdownReference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
    Field(
        description="Your id of this drawdown (a ticket, a rating run): the same reference again changes "
        "nothing.",
        examples=["ticket-4711"],
    ),
]


class RolloverIn(BaseModel):
    """What happens to unused units at each period end (monthly, on the account's bill-cycle day)."""

    model_config = REQUEST
    policy: RolloverPolicy = Field(
        default=RolloverPolicy.ALL,
        description="none: unused units expire; all: they all carry over; up_to: at most `up_to` carry over.",
    )
    up_to: Quantity | None = Field(default=None, description="With the up_to policy only.")

    @model_validator(mode="after")
    def _limit_with_up_to(self) -> Self:
        if (self.policy is RolloverPolicy.UP_TO) != (self.up_to is not None):
            raise ValueError("give up_to with the up_to policy, and only with it")
        return self


class GrantIn(BaseModel):
    """Prepaid money (`amount`) or units (`quantity` at `unit_price` paid per unit)."""

    model_config = REQUEST
    amount: NonNegativeAmount | None = Field(default=None, description="Money balances: the amount prepaid.")
    quantity: Quantity | None = Field(default=None, description="Units balances: the units prepaid.")
    unit_price: UnitPrice | None = Field(
        default=None,
        description="Units balances: the price paid per unit (values a refund; 0 for free units).",
    )
    expires_on: IsoDate | None = Field(
        default=None,
        description="First day this grant can no longer be used (never later than the balance's own).",
    )


class BalanceCreate(BaseModel):
    """Open a prepaid balance for an account, or for one of its subscriptions."""

    # A units balance names its meter; a money balance has neither meter nor unit label.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=one_case_per(
            "kind",
            {
                BalanceKind.MONEY: {"meter": UNSET, "unit_label": UNSET},
                BalanceKind.UNITS: {"meter": SET},
            },
        ),
    )
    account_id: Reference
    subscription_id: Reference | None = Field(
        default=None, description="Set for a subscription's own balance; drawn before the account's."
    )
    kind: BalanceKind
    currency: CurrencyCode | None = Field(
        default=None,
        description="The subscription's (or account's) currency, the default; for units, the currency "
        "of the prices paid. Another currency is a 422.",
    )
    meter: MeterCode | None = Field(default=None, description="Units balances: the meter drawn down.")
    unit_label: UnitLabel | None = Field(default=None, description="Units balances: what a unit is.")
    rollover: RolloverIn = Field(default_factory=RolloverIn)
    thresholds: list[Percent] = Field(
        default_factory=lambda: list(DEFAULT_THRESHOLDS),
        max_length=MAX_THRESHOLDS,
        description="Percents of a grant cycle used that warn (`balance.threshold_crossed`).",
    )
    expires_on: IsoDate | None = Field(
        default=None, description="First day the balance can no longer be used."
    )
    initial_grant: GrantIn | None = None


class TopUpCreate(GrantIn):
    """Add prepaid money or units to a balance; a new grant cycle starts (thresholds warn again)."""

    currency: CurrencyCode | None = Field(default=None, description="If given, the balance's currency.")


class DrawdownCreate(BaseModel):
    """Draw money (`amount`) or units (`quantity`) from a balance by hand; all of it or nothing (409)."""

    model_config = REQUEST
    amount: NonNegativeAmount | None = None
    quantity: Quantity | None = None
    currency: CurrencyCode | None = Field(default=None, description="If given, the balance's currency.")
    reference: DrawdownReference


class SettlementRequest(BaseModel):
    """Book expiries and period ends now (the periodic job does it on its own)."""

    model_config = REQUEST
    as_of: IsoDate | None = Field(
        default=None,
        description="Book what is due by this date; default: each account's local today less the "
        "settlement delay (BALANCE_SETTLE_DELAY_DAYS).",
    )
    account_id: Reference | None = Field(default=None, description="Only this account's balances.")


class SettlementPublic(BaseModel):
    """What a settlement run booked."""

    balances_changed: int
    transactions: int


class RolloverPublic(BaseModel):
    """The rollover policy of a balance."""

    policy: RolloverPolicy
    up_to: Quantity | None = None


class GrantPublic(BaseModel):
    """An open grant: what is left of it, the price paid and its expiry."""

    id: str
    kind: BalanceTransactionKind
    quantity: Quantity
    open_quantity: Quantity
    unit_price: UnitPrice | None
    expires_on: date | None
    granted_on: date


class TransactionPublic(BaseModel):
    """One movement of a balance."""

    id: str
    kind: BalanceTransactionKind
    quantity: Quantity
    unit_price: UnitPrice | None = None
    amount: NonNegativeAmount | None = Field(default=None, description="Money value of a refund.")
    grant_id: str | None = None
    expires_on: date | None = None
    reference: str | None = None
    on: date
    created_at: datetime


class BalancePublic(BaseModel):
    """A balance on a date: totals (granted = used + remaining + expired + refunded), state, thresholds."""

    id: str
    account_id: str
    subscription_id: str | None
    kind: BalanceKind
    currency: str
    meter: str | None
    unit_label: str | None
    rollover: RolloverPublic
    thresholds: list[Percent]
    expires_on: date | None
    as_of: date = Field(description="The account-local date the figures and state are for.")
    state: BalanceState
    granted: Quantity
    used: Quantity
    remaining: Quantity
    expired: Quantity
    refunded: Quantity
    rolled_over: Quantity = Field(description="Carried from ended periods into the next (informational).")
    used_percent: Percent = Field(description="Share of the current grant cycle used.")
    thresholds_crossed: list[Percent] = Field(description="Thresholds reported in the current grant cycle.")
    period_start: date = Field(description="First day of the current period (rollover at its end).")
    closed_on: date | None
    closing_on: date | None = Field(
        description="Its subscription was cancelled from this date: the unused part is refunded then."
    )
    grants: list[GrantPublic] = Field(
        description="Open grants in drawdown order (the earliest expiry first); one past its date counts as "
        "expired until the settlement books it."
    )
    transactions: list[TransactionPublic] = Field(
        default_factory=list,
        description="The latest movements, oldest first (all of them: GET .../transactions).",
    )
    created_at: datetime
    updated_at: datetime


def _figure(balance: Balance, value: Decimal) -> Decimal:
    return amount_out(value, balance.currency) if balance.kind is BalanceKind.MONEY else decimal_out(value)


def grant_public(balance: Balance, grant: Grant) -> GrantPublic:
    """The public view of an open grant."""
    return GrantPublic(
        id=grant.id,
        kind=grant.kind,
        quantity=_figure(balance, grant.quantity),
        open_quantity=_figure(balance, grant.open_quantity),
        unit_price=unit_price_out(grant.unit_price),
        expires_on=grant.expires_on,
        granted_on=grant.granted_on,
    )


def transaction_public(balance: Balance, record: Transaction) -> TransactionPublic:
    """The public view of one movement."""
    return TransactionPublic(
        id=record.id,
        kind=record.kind,
        quantity=_figure(balance, record.quantity),
        unit_price=unit_price_out(record.unit_price),
        amount=amount_out(record.amount, balance.currency),
        grant_id=record.grant_id,
        expires_on=record.expires_on,
        reference=record.reference,
        on=record.on,
        created_at=record.created_at,
    )


def balance_public(
    balance: Balance, on: date, transactions: list[Transaction] | None = None
) -> BalancePublic:
    """The public view of a balance on the account-local date `on`."""
    figures = balance.figures(on)
    return BalancePublic(
        id=balance.id,
        account_id=balance.account_id,
        subscription_id=balance.subscription_id,
        kind=balance.kind,
        currency=balance.currency,
        meter=balance.meter,
        unit_label=balance.unit_label,
        rollover=RolloverPublic(policy=balance.rollover.policy, up_to=decimal_out(balance.rollover.limit)),
        thresholds=[percent_out(t) for t in balance.thresholds],
        expires_on=balance.expires_on,
        as_of=on,
        state=balance.state(on),
        granted=_figure(balance, figures.granted),
        used=_figure(balance, figures.used),
        remaining=_figure(balance, figures.remaining),
        expired=_figure(balance, figures.expired),
        refunded=_figure(balance, figures.refunded),
        rolled_over=_figure(balance, figures.rolled_over),
        used_percent=percent_out(balance.used_percent()),
        thresholds_crossed=[percent_out(t) for t in balance.crossed],
        period_start=balance.period_start,
        closed_on=balance.closed_on,
        closing_on=balance.closing_on,
        grants=[
            grant_public(balance, g)
            for g in sorted(balance.grants, key=lambda g: (g.rank, g.expires_on or date.max, g.id))
            if g.open_quantity > 0
        ],
        transactions=[transaction_public(balance, t) for t in transactions or []],
        created_at=balance.created_at,
        updated_at=balance.updated_at,
    )
