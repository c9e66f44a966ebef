"""Payment methods: tokens only — a card token (brand, last four, expiry), an ACH mandate, a check or
a wire. A card number never reaches this module: the edge guard refuses it (libs/platform/card_numbers.py).

The account updater replaces an expired (or re-issued) card's token and expiry in place: the
method keeps its id, so its payments and their history stay with it, and every earlier token is
kept as a version (`previous_tokens`), newest last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from invoicing.domain.payments import PaymentMethodKind
from libs.platform.errors import Conflict, FieldErrors


class PaymentMethodConflict(Conflict):
    """The method's kind or state forbids the change (409): a token update of an ACH mandate."""


@dataclass(frozen=True, slots=True)
class CardToken:
    """A card as the gateway's vault knows it: never the card number."""

    token: str
    brand: str
    last_four: str
    exp_month: int
    exp_year: int

    def expires_after(self, day: date) -> bool:
        """True when the card is still valid on `day` (a card expires at the end of its month)."""
        return (self.exp_year, self.exp_month) >= (day.year, day.month)


@dataclass(frozen=True, slots=True)
class TokenVersion:
    """A token the method held before the account updater replaced it."""

    version: int
    card: CardToken
    replaced_at: datetime
    reason: str | None


@dataclass(eq=False)
class PaymentMethod:
    """A stored way to pay for an account."""

    id: str
    account_id: str
    kind: PaymentMethodKind
    created_at: datetime
    card: CardToken | None = None
    mandate_id: str | None = None
    bank_last_four: str | None = None
    label: str | None = None
    token_version: int = 1
    previous_tokens: list[TokenVersion] = field(default_factory=list)
    updated_at: datetime | None = None
    version: int = 0

    @classmethod
    def new(cls, **fields: object) -> PaymentMethod:
        """A method, checked: a card has its token, an ACH method its mandate (422 otherwise)."""
        method = cls(**fields)  # type: ignore[arg-type]
        errors = FieldErrors()
        if method.kind is PaymentMethodKind.CREDIT:
            errors.add("kind", "account credit is carried from invoices: it is no payment method")
        if method.kind is PaymentMethodKind.CARD and method.card is None:
            errors.add("card", "a card method holds a card token (token, brand, last four, expiry)")
        if method.kind is not PaymentMethodKind.CARD and method.card is not None:
            errors.add("card", f"a {method.kind.value} method holds no card")
        if method.kind is PaymentMethodKind.ACH and method.mandate_id is None:
            errors.add("mandate_id", "an ACH method holds the mandate the customer signed")
        if method.kind is not PaymentMethodKind.ACH and (method.mandate_id or method.bank_last_four):
            errors.add("mandate_id", f"a {method.kind.value} method holds no ACH mandate")
        errors.raise_if_any("The payment method is not valid")
        return method

    @property
    def token(self) -> str | None:
        """What the gateway charges: the card token, or the ACH mandate."""
        if self.card is not None:
            return self.card.token
        return self.mandate_id

    def update_token(self, card: CardToken, *, at: datetime, reason: str | None) -> None:
        """The account updater: a new token and expiry in place of the old, which is kept as a version."""
        if self.kind is not PaymentMethodKind.CARD or self.card is None:
            raise PaymentMethodConflict(
                f"payment method {self.id} is a {self.kind.value}: only cards get new tokens"
            )
        self.previous_tokens.append(TokenVersion(self.token_version, self.card, at, reason))
        self.card = card
        self.token_version += 1
        self.updated_at = at
