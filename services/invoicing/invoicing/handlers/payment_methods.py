"""Use cases of payment methods: store one (tokens only), read and list them, and the account
updater's token update (a new card token and expiry on the same method, the old kept as a version).
Each change publishes `payment_method.added` / `.token_updated` (brand, last four, expiry: no token)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoicing.domain.payment_methods import CardToken, PaymentMethod
from invoicing.domain.payments import PaymentMethodKind
from invoicing.events import payment_methods as events
from libs.platform.errors import NotFound
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


async def add_payment_method(
    *,
    uow: InvoicingUnitOfWork,
    account_id: str,
    kind: PaymentMethodKind,
    card: CardToken | None = None,
    mandate_id: str | None = None,
    bank_last_four: str | None = None,
    label: str | None = None,
) -> PaymentMethod:
    """Store a payment method of a known account (404 otherwise; 422 a card without its token, an
    ACH method without its mandate)."""
    if await uow.billing_inputs.find_account(account_id) is None:
        raise NotFound("account", account_id)
    method = PaymentMethod.new(
        id=new_id("pm"),
        account_id=account_id,
        kind=kind,
        created_at=uow.clock.now(),
        card=card,
        mandate_id=mandate_id,
        bank_last_four=bank_last_four,
        label=label,
    )
    await uow.payments.add_method(method)
    uow.emit_outgoing(events.method_added(method))
    uow.audit(
        "payment_method.added",
        "payment_method",
        method.id,
        {"account_id": account_id, "kind": kind.value, **_shown(method)},
    )
    await uow.commit()
    return method


async def update_card_token(
    *, uow: InvoicingUnitOfWork, method_id: str, card: CardToken, reason: str | None
) -> PaymentMethod:
    """The account updater: replace a card's token and expiry, keeping the method (its id, its
    payments, its declined payments' retries, which use the new token) and the old token as a version."""
    method = await uow.payments.get_method(method_id)
    before = _shown(method)
    method.update_token(card, at=uow.clock.now(), reason=reason)
    await uow.payments.save_method(method)
    uow.emit_outgoing(events.token_updated(method, uow.clock.now()))
    uow.audit(
        "payment_method.token_updated",
        "payment_method",
        method.id,
        {"before": before, "after": _shown(method), "token_version": method.token_version, "reason": reason},
    )
    await uow.commit()
    return method


async def get_payment_method(*, uow: InvoicingUnitOfWork, method_id: str) -> PaymentMethod:
    """One payment method with its earlier tokens (404 when unknown)."""
    return await uow.payments.get_method(method_id)


async def list_payment_methods(
    *, uow: InvoicingUnitOfWork, account_id: str | None, page: PageRequest
) -> Page[PaymentMethod]:
    """A page of payment methods, of one account or all."""
    return await uow.payments.page_methods(account_id, page)


def _shown(method: PaymentMethod) -> dict[str, object]:
    # What an audit record may show: brand, last four and expiry, never a token.
    if method.card is None:
        return {"bank_last_four": method.bank_last_four}
    card = method.card
    return {
        "brand": card.brand,
        "last_four": card.last_four,
        "expiry": f"{card.exp_month:02d}/{card.exp_year}",
    }
