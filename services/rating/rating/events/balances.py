"""Balance events -> `balance.created`, `balance.changed`, `balance.threshold_crossed`,
`entitlement.exhausted`, `balance.refunded` on `rating.events`, keyed by the account."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from libs.contracts import balances as contracts
from libs.contracts.balances import BalanceKind
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out
from libs.platform.unit_of_work_port import UnitOfWorkPort
from rating.domain.balances import (
    Balance,
    BalanceChanged,
    Exhausted,
    Refunded,
    ThresholdCrossed,
    Transaction,
)


def _figure(balance: Balance, value: Decimal) -> Decimal:
    return amount_out(value, balance.currency) if balance.kind is BalanceKind.MONEY else decimal_out(value)


def _owner(balance: Balance) -> dict[str, Any]:
    return {
        "balance_id": balance.id,
        "account_id": balance.account_id,
        "subscription_id": balance.subscription_id,
        "kind": balance.kind,
        "currency": balance.currency,
        "meter": balance.meter,
        "unit_label": balance.unit_label,
    }


def figures(balance: Balance, on: date) -> contracts.BalanceFigures:
    """The balance's totals on `on`, as the contracts carry them."""
    f = balance.figures(on)
    return contracts.BalanceFigures(
        granted=_figure(balance, f.granted),
        used=_figure(balance, f.used),
        remaining=_figure(balance, f.remaining),
        expired=_figure(balance, f.expired),
        refunded=_figure(balance, f.refunded),
        rolled_over=_figure(balance, f.rolled_over),
    )


def movements(balance: Balance, records: Iterable[Transaction]) -> list[contracts.BalanceMovement]:
    """Transactions as the contracts carry them."""
    return [
        contracts.BalanceMovement(
            transaction_id=r.id,
            kind=r.kind,
            quantity=_figure(balance, r.quantity),
            unit_price=unit_price_out(r.unit_price),
            expires_on=r.expires_on,
            reference=r.reference,
        )
        for r in records
    ]


def balance_created(balance: Balance, on: date) -> contracts.BalanceCreated:
    """A new balance with its initial grant."""
    return contracts.BalanceCreated(
        **_owner(balance),
        rollover_policy=balance.rollover.policy,
        rollover_limit=decimal_out(balance.rollover.limit),
        thresholds=[percent_out(t) for t in balance.thresholds],
        expires_on=balance.expires_on,
        figures=figures(balance, on),
        movements=movements(balance, balance.new_transactions),
        created_at=balance.created_at,
    )


def emit_recorded(uow: UnitOfWorkPort, balance: Balance, at: datetime) -> None:
    """Stage the contracts of the events the balance recorded (then forgotten) in the outbox."""
    for event in balance.events:
        uow.emit(_contract_of(balance, event, at), key=balance.account_id)
    balance.events.clear()


def _contract_of(
    balance: Balance, event: BalanceChanged | ThresholdCrossed | Exhausted | Refunded, at: datetime
) -> EventPayload:
    if isinstance(event, BalanceChanged):
        return contracts.BalanceChanged(
            **_owner(balance),
            change=event.change,
            on=event.on,
            movements=movements(balance, event.transactions),
            figures=figures(balance, event.on),
            changed_at=at,
        )
    if isinstance(event, ThresholdCrossed):
        return contracts.BalanceThresholdCrossed(
            **_owner(balance),
            threshold_percent=percent_out(event.threshold),
            used_percent=percent_out(event.used_percent),
            remaining=_figure(balance, event.remaining),
            at=at,
        )
    if isinstance(event, Refunded):
        return balance_refunded(balance, event, at)
    return contracts.EntitlementExhausted(**_owner(balance), on=event.on, at=at)


def balance_refunded(balance: Balance, event: Refunded, at: datetime) -> contracts.BalanceRefunded:
    """The refund of a cancelled subscription's balance: a line per grant, each rounded once."""
    assert balance.subscription_id is not None, "only a subscription's balance is refunded"
    lines = [
        contracts.RefundLine(
            balance_id=balance.id,
            transaction_id=refunded.transaction.id,
            kind=balance.kind,
            meter=balance.meter,
            unit_label=balance.unit_label,
            quantity=_figure(balance, refunded.transaction.quantity),
            unit_price=unit_price_out(refunded.unit_price),
            amount=amount_out(refunded.amount, balance.currency),
        )
        for refunded in event.lines
    ]
    return contracts.BalanceRefunded(
        account_id=balance.account_id,
        subscription_id=balance.subscription_id,
        balance_id=balance.id,
        currency=balance.currency,
        amount=amount_out(sum((line.amount for line in lines), Decimal(0)), balance.currency),
        lines=lines,
        cancelled_on=event.on,
        cancellation_event_id=event.cancellation_event_id,
        refunded_at=at,
    )


def movements_audit(balance: Balance) -> dict[str, Any]:
    """What an audit record of a change shows: its new transactions (call before saving)."""
    return {
        "transactions": [
            {
                "id": r.id,
                "kind": r.kind.value,
                "quantity": str(r.quantity),
                "grant_id": r.grant_id,
                "reference": r.reference,
                "on": r.on.isoformat(),
                **({"amount": str(r.amount)} if r.amount is not None else {}),
            }
            for r in balance.new_transactions
        ]
    }
