"""Requests and views of payment methods (`/v1/payment-methods`): tokens only, never a card number.

A card is its gateway token with the brand, last four digits and expiry shown to people; an ACH
method is the mandate the customer signed and the bank account's last four; checks and wires need
nothing more than the account. A card number sent in any field is refused (422) by the edge guard
before it reaches these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.payment_methods import CardToken, PaymentMethod
from invoicing.domain.payments import PaymentMethodKind
from libs.contracts.types import IntegerRange
from libs.platform.text import ONE_LINE

Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{4,200}$")]
LastFour = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
Brand = Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,32}$")]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MandateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), ONE_LINE]


class CardTokenIn(BaseModel):
    """A card as the gateway's vault returned it."""

    model_config = ConfigDict(extra="forbid")

    token: Token = Field(description="The gateway's token for the card.", examples=["tok_visa_4242"])
    brand: Brand = Field(examples=["visa"])
    last_four: LastFour = Field(examples=["4242"])
    exp_month: Annotated[int, IntegerRange(1, 12)]
    exp_year: Annotated[int, IntegerRange(2000, 2100)]

    def card(self) -> CardToken:
        """The card as the domain keeps it."""
        return CardToken(self.token, self.brand, self.last_four, self.exp_month, self.exp_year)


class AchMandateIn(BaseModel):
    """An ACH debit mandate the customer signed."""

    model_config = ConfigDict(extra="forbid")

    mandate_id: MandateId = Field(examples=["md_2026_0042"])
    bank_last_four: LastFour | None = None


class PaymentMethodCreate(BaseModel):
    """A payment method of an account: `card` for a card, `ach` for ACH, nothing else for check or wire."""

    model_config = ConfigDict(extra="forbid")

    account_id: EntityId
    kind: PaymentMethodKind
    card: CardTokenIn | None = Field(default=None, description="Required for a card, refused otherwise.")
    ach: AchMandateIn | None = Field(default=None, description="Required for ACH, refused otherwise.")
    label: Label | None = None


class TokenUpdate(BaseModel):
    """The account updater's new token and expiry for a card (re-issued, renewed, lost or stolen)."""

    model_config = ConfigDict(extra="forbid")

    card: CardTokenIn
    reason: Reason | None = Field(default=None, examples=["expired card renewed by the issuer"])


class CardTokenPublic(BaseModel):
    """A card token and what people are shown of the card."""

    token: str
    brand: str
    last_four: str
    exp_month: int
    exp_year: int


class TokenVersionPublic(BaseModel):
    """A token the method held before."""

    version: int
    card: CardTokenPublic
    replaced_at: datetime
    reason: str | None


class PaymentMethodPublic(BaseModel):
    """A stored payment method."""

    id: str = Field(examples=["pm_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    kind: PaymentMethodKind
    label: str | None
    card: CardTokenPublic | None
    mandate_id: str | None
    bank_last_four: str | None
    token_version: int
    previous_tokens: list[TokenVersionPublic]
    created_at: datetime
    updated_at: datetime | None


def _card(card: CardToken) -> CardTokenPublic:
    return CardTokenPublic(
        token=card.token,
        brand=card.brand,
        last_four=card.last_four,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def payment_method_public(method: PaymentMethod) -> PaymentMethodPublic:
    """The view of a method."""
    return PaymentMethodPublic(
        id=method.id,
        account_id=method.account_id,
        kind=method.kind,
        label=method.label,
        card=_card(method.card) if method.card else None,
        mandate_id=method.mandate_id,
        bank_last_four=method.bank_last_four,
        token_version=method.token_version,
        previous_tokens=[
            TokenVersionPublic(
                version=v.version, card=_card(v.card), replaced_at=v.replaced_at, reason=v.reason
            )
            for v in method.previous_tokens
        ],
        created_at=method.created_at,
        updated_at=method.updated_at,
    )
