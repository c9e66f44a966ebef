"""Payment methods -> `payment_method.added`, `payment_method.token_updated`, keyed by the account
(libs/contracts/payments.py). Brand, last four and expiry only: never a token."""

from __future__ import annotations

from datetime import datetime

from invoicing.domain.payment_methods import PaymentMethod
from libs.contracts import payments as contracts
from libs.contracts.envelope import EventPayload


def _shown(method: PaymentMethod) -> dict[str, object]:
    card = method.card
    return {
        "payment_method_id": method.id,
        "account_id": method.account_id,
        "kind": method.kind.value,
        "brand": card.brand if card else None,
        "last_four": card.last_four if card else None,
        "exp_month": card.exp_month if card else None,
        "exp_year": card.exp_year if card else None,
        "bank_last_four": method.bank_last_four,
    }


def method_added(method: PaymentMethod) -> tuple[EventPayload, str]:
    """A stored payment method."""
    return contracts.PaymentMethodAdded(**_shown(method), added_at=method.created_at), method.account_id


def token_updated(method: PaymentMethod, at: datetime) -> tuple[EventPayload, str]:
    """A card's new token from the account updater, with the card it replaced (last four, expiry)."""
    before = method.previous_tokens[-1] if method.previous_tokens else None
    payload = contracts.PaymentMethodTokenUpdated(
        **_shown(method),
        token_version=method.token_version,
        previous_last_four=before.card.last_four if before else None,
        previous_exp_month=before.card.exp_month if before else None,
        previous_exp_year=before.card.exp_year if before else None,
        reason=before.reason if before else None,
        updated_at=at,
    )
    return payload, method.account_id
