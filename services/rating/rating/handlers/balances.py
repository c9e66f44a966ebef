"""Use cases of prepaid balances: open, top up, draw down (by hand or from rating), read.

`draw_down` and `available` are what the rest of rating calls — period close draws the usage
of a period from the balances, entitlement checks ask what is left. Both run in the caller's
unit of work: `draw_down` stages its transactions, events and audit records and the caller
commits them with its own change (a rated period and its drawdown are one transaction).

Expiry, period ends and the cancellation refund are in `rating.handlers.balances_settlement`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from libs.contracts.balances import BalanceKind
from libs.contracts.balances import BalanceTransactionKind as Kind
from libs.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.money import require_minor_units, round_money
from libs.platform.pagination import Page, PageRequest
from libs.platform.periods import monthly_period_containing
from rating.domain.balances import (
    ZERO,
    Balance,
    Grant,
    Rollover,
    Transaction,
    allocate,
    checked_thresholds,
    drawdown_order,
)
from rating.domain.subscriptions import Account
from rating.events.balances import balance_created, emit_recorded, movements_audit
from rating.handlers.balances_port import RecordedDrawdown
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.schemas.balances import (
    BalanceCreate,
    BalancePublic,
    DrawdownCreate,
    GrantIn,
    TopUpCreate,
    TransactionPublic,
    balance_public,
    transaction_public,
)

RECENT_TRANSACTIONS = 100


# --- what the rest of rating calls ---------------------------------------------------------------


@dataclass(frozen=True)
class DrawnLine:
    """What one drawdown took from one balance."""

    balance_id: str
    kind: BalanceKind
    quantity: Decimal


@dataclass(frozen=True)
class Drawdown:
    """What a drawdown took: `units` from units balances, `amount` from money balances."""

    units: Decimal
    amount: Decimal
    lines: tuple[DrawnLine, ...] = ()
    replayed: bool = False
    """True when the reference had been drawn before: nothing more was taken."""


@dataclass(frozen=True)
class Available:
    """What can be drawn on a date: units of the meter and money in the currency."""

    units: Decimal
    amount: Decimal


async def draw_down(
    uow: RatingUnitOfWork,
    *,
    subscription_id: str,
    account_id: str,
    meter: str,
    currency: str,
    units: Decimal,
    amount: Decimal,
    reference: str,
    on: date,
) -> Drawdown:
    """Draw up to `units` of `meter` and up to `amount` of `currency` on `on`; staged, the caller commits.

    Units come from the subscription's own units balances first, then the account's; within
    them the grant that expires first; grants expired on `on` are skipped. `amount` is rounded
    to the currency's minor units and drawn the same way from money balances. What could not
    be drawn is the caller's to charge. A second call with the same `reference` (per account)
    takes nothing more and returns what the first took.
    """
    if units < 0 or amount < 0:
        raise ValueError("a drawdown takes non-negative units and amount")
    candidates = await uow.balances.candidates(
        account_id=account_id,
        subscription_id=subscription_id,
        meter=meter,
        currency=currency,
        for_update=True,
    )
    booked = await uow.balances.drawdowns(account_id, reference)
    if booked:
        return _replayed(booked)
    at = uow.clock.now()
    lines: list[DrawnLine] = []
    asked = {BalanceKind.UNITS: units, BalanceKind.MONEY: round_money(amount, currency)}
    for kind, wanted in asked.items():
        pool = [b for b in candidates if b.kind is kind]
        for balance in pool:
            for grant in balance.grants:
                grant.rank = 0 if balance.subscription_id == subscription_id else 1
        lines += _draw(pool, wanted, on=on, reference=reference, at=at)
    marked = next((b for b in candidates if asked[b.kind] > 0), None)
    if not lines and marked is not None:
        # Remember the reference even when nothing was there, so a repeat after a top-up takes
        # nothing; on a balance of a kind that was asked for (the close asks units and money apart).
        marked.mark_drawdown(on=on, at=at, reference=reference, transaction_id=new_id("btx"))
    for balance in candidates:
        if balance.new_transactions:
            uow.audit("balance.drawn_down", "balance", balance.id, movements_audit(balance))
            emit_recorded(uow, balance, at)
            await uow.balances.save(balance)
    return Drawdown(
        units=sum((line.quantity for line in lines if line.kind is BalanceKind.UNITS), ZERO),
        amount=sum((line.quantity for line in lines if line.kind is BalanceKind.MONEY), ZERO),
        lines=tuple(lines),
    )


async def available(
    uow: RatingUnitOfWork, *, subscription_id: str, account_id: str, meter: str, currency: str, on: date
) -> Available:
    """What `draw_down` could take on `on` (read-only): units of `meter`, money in `currency`."""
    candidates = await uow.balances.candidates(
        account_id=account_id,
        subscription_id=subscription_id,
        meter=meter,
        currency=currency,
        for_update=False,
    )
    units = sum((b.usable(on) for b in candidates if b.kind is BalanceKind.UNITS), ZERO)
    amount = sum((b.usable(on) for b in candidates if b.kind is BalanceKind.MONEY), ZERO)
    return Available(units=units, amount=amount)


def _draw(
    pool: Sequence[Balance], wanted: Decimal, *, on: date, reference: str, at: datetime
) -> list[DrawnLine]:
    if wanted <= 0 or not pool:
        return []
    by_balance: dict[str, list[tuple[Grant, Decimal]]] = defaultdict(list)
    for grant, quantity in allocate(drawdown_order([g for b in pool for g in b.grants], on), wanted):
        by_balance[grant.balance_id].append((grant, quantity))
    balances = {b.id: b for b in pool}
    lines = []
    for balance_id, allocations in by_balance.items():  # in the order they were drawn
        balance = balances[balance_id]
        drawn = balance.draw(allocations, on=on, at=at, reference=reference, new_id=_txn_id)
        lines.append(DrawnLine(balance.id, balance.kind, drawn))
    return lines


def _replayed(booked: Sequence[RecordedDrawdown]) -> Drawdown:
    per_balance: dict[tuple[str, BalanceKind], Decimal] = defaultdict(lambda: ZERO)
    for entry in booked:
        per_balance[entry.transaction.balance_id, entry.kind] += entry.transaction.quantity
    lines = tuple(DrawnLine(b, k, q) for (b, k), q in per_balance.items() if q > 0)
    return Drawdown(
        units=sum((q for (_, k), q in per_balance.items() if k is BalanceKind.UNITS), ZERO),
        amount=sum((q for (_, k), q in per_balance.items() if k is BalanceKind.MONEY), ZERO),
        lines=lines,
        replayed=True,
    )


# --- the REST use cases --------------------------------------------------------------------------


async def create_balance(*, uow: RatingUnitOfWork, command: BalanceCreate) -> BalancePublic:
    """Open a balance (with its initial grant, if any) for a known account or subscription."""
    account = await uow.subscriptions.account(command.account_id)
    if account is None:
        raise ValidationFailed.single(
            "account_id", f"account {command.account_id!r} is not known to rating", "unknown_account"
        )
    currency, owner = account.currency, "account"
    if command.subscription_id is not None:
        subscription = await uow.subscriptions.subscription(command.subscription_id)
        if subscription is None or subscription.account_id != account.account_id:
            raise ValidationFailed.single(
                "subscription_id",
                f"subscription {command.subscription_id!r} is not a subscription of {account.account_id}",
                "unknown_subscription",
            )
        currency, owner = subscription.currency, "subscription"
    errors = _kind_errors(command)
    if command.currency is not None and command.currency != currency:
        errors.append(
            FieldError("currency", f"must be the {owner}'s currency {currency}", "currency_mismatch")
        )
    if errors:
        raise ValidationFailed("The balance does not fit its kind or owner", errors)
    on = uow.business_date(account.time_zone)
    if command.expires_on is not None and command.expires_on <= on:
        raise ValidationFailed.single("expires_on", f"must be after {on.isoformat()}")
    at = uow.clock.now()
    balance = Balance(
        id=new_id("bal"),
        account_id=account.account_id,
        subscription_id=command.subscription_id,
        kind=command.kind,
        currency=currency,
        meter=command.meter,
        unit_label=command.unit_label or ("units" if command.kind is BalanceKind.UNITS else None),
        rollover=Rollover(command.rollover.policy, command.rollover.up_to),
        thresholds=checked_thresholds(command.thresholds),
        expires_on=command.expires_on,
        period_start=monthly_period_containing(on, account.bill_cycle_day).start,
        created_at=at,
        updated_at=at,
    )
    if command.initial_grant is not None:
        _grant(balance, command.initial_grant, Kind.GRANT, on, at, "initial_grant.")
    balance.schedule(account.bill_cycle_day)
    balance.events.clear()  # the creation event carries the initial grant
    uow.emit(balance_created(balance, on), key=balance.account_id)
    public = balance_public(balance, on, list(balance.new_transactions))
    await uow.balances.add(balance)
    uow.audit(
        "balance.created", "balance", balance.id, public.model_dump(mode="json", exclude={"transactions"})
    )
    await uow.commit()
    return public


async def top_up(*, uow: RatingUnitOfWork, balance_id: str, command: TopUpCreate) -> BalancePublic:
    """Add money or units to a balance today (account-local); a new grant cycle starts."""
    balance = await uow.balances.get(balance_id, for_update=True)
    account = await _account_of(uow, balance)
    if command.currency is not None and command.currency != balance.currency:
        raise ValidationFailed.single(
            "currency", f"balance {balance.id} is in {balance.currency}", "currency_mismatch"
        )
    on = uow.business_date(account.time_zone)
    _grant(balance, command, Kind.TOP_UP, on, uow.clock.now(), "")
    return await _commit_change(uow, balance, "balance.topped_up", on)


async def draw_down_balance(
    *, uow: RatingUnitOfWork, balance_id: str, command: DrawdownCreate
) -> BalancePublic:
    """Draw from one balance by hand, today: all of it or nothing (409 with what remains).

    The same reference again (for the account) changes nothing and answers the balance as it is.
    """
    balance = await uow.balances.get(balance_id, for_update=True)
    account = await _account_of(uow, balance)
    wanted = _wanted(balance, command.amount, command.quantity)
    if command.currency is not None and command.currency != balance.currency:
        raise ValidationFailed.single(
            "currency", f"balance {balance.id} is in {balance.currency}", "currency_mismatch"
        )
    on = uow.business_date(account.time_zone)
    booked = await uow.balances.drawdowns(balance.account_id, command.reference)
    if booked:
        used_on = {entry.transaction.balance_id for entry in booked}
        if used_on != {balance.id}:
            raise Conflict(
                f"reference {command.reference!r} was used on balance {', '.join(sorted(used_on))}"
            )
        return await _view(uow, balance, on)
    order = drawdown_order(balance.grants, on)
    usable = sum((g.open_quantity for g in order), ZERO)
    if wanted > usable:
        raise InsufficientBalance(balance, wanted, usable)
    balance.draw(
        allocate(order, wanted), on=on, at=uow.clock.now(), reference=command.reference, new_id=_txn_id
    )
    return await _commit_change(uow, balance, "balance.drawn_down", on)


async def get_balance(*, uow: RatingUnitOfWork, balance_id: str, as_of: date | None) -> BalancePublic:
    """A balance on `as_of` (default: the account's local today) with its latest transactions."""
    balance = await uow.balances.get(balance_id)
    on = as_of or uow.business_date((await _account_of(uow, balance)).time_zone)
    return await _view(uow, balance, on)


async def list_balances(
    *, uow: RatingUnitOfWork, page: PageRequest, account_id: str | None, subscription_id: str | None
) -> Page[BalancePublic]:
    """A page of balances (without their transactions), each on its account's local today."""
    found = await uow.balances.page(page, account_id=account_id, subscription_id=subscription_id)
    accounts = await uow.subscriptions.accounts({b.account_id for b in found.data})
    views = []
    for balance in found.data:
        account = accounts.get(balance.account_id)
        views.append(balance_public(balance, uow.business_date(account.time_zone if account else "UTC")))
    return Page[BalancePublic](data=views, next_cursor=found.next_cursor, has_more=found.has_more)


async def list_transactions(
    *, uow: RatingUnitOfWork, balance_id: str, page: PageRequest
) -> Page[TransactionPublic]:
    """A page of a balance's transactions, oldest first."""
    balance = await uow.balances.get(balance_id)
    found = await uow.balances.transactions(balance_id, page)
    return Page[TransactionPublic](
        data=[transaction_public(balance, t) for t in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


class InsufficientBalance(ValidationFailed):
    """A drawdown asked for more than remains (409, the remaining quantity in the detail and errors)."""

    status = 409
    title = "Conflict"
    code = "insufficient_balance"

    def __init__(self, balance: Balance, wanted: Decimal, usable: Decimal) -> None:
        field = "amount" if balance.kind is BalanceKind.MONEY else "quantity"
        unit = balance.currency if balance.kind is BalanceKind.MONEY else balance.unit_label or "units"
        money = balance.kind is BalanceKind.MONEY
        remaining, asked = (round_money(v, balance.currency) if money else v for v in (usable, wanted))
        message = f"only {remaining} {unit} remain; {asked} asked"
        super().__init__(message, [FieldError(field, message, "insufficient_balance")])
        self.remaining = usable


# --- helpers -------------------------------------------------------------------------------------


def _txn_id() -> str:
    return new_id("btx")


def _kind_errors(command: BalanceCreate) -> list[FieldError]:
    errors = []
    if command.kind is BalanceKind.UNITS and command.meter is None:
        errors.append(FieldError("meter", "a units balance names the meter it is drawn for", "missing"))
    if command.kind is BalanceKind.MONEY:
        for name in ("meter", "unit_label"):
            if getattr(command, name) is not None:
                errors.append(FieldError(name, "only a units balance has one", "wrong_kind"))
    return errors


def _wanted(balance: Balance, amount: Decimal | None, quantity: Decimal | None, prefix: str = "") -> Decimal:
    """The quantity a request gives in the field of the balance's kind (422 on the other one)."""
    money = balance.kind is BalanceKind.MONEY
    right, wrong = ("amount", "quantity") if money else ("quantity", "amount")
    given, other = (amount, quantity) if money else (quantity, amount)
    errors = []
    if other is not None:
        errors.append(
            FieldError(f"{prefix}{wrong}", f"a {balance.kind.value} balance takes {right}", "wrong_kind")
        )
    if given is None:
        errors.append(
            FieldError(f"{prefix}{right}", f"a {balance.kind.value} balance takes {right}", "missing")
        )
    elif given <= 0:
        errors.append(FieldError(f"{prefix}{right}", "must be more than 0", "not_positive"))
    if errors:
        raise ValidationFailed("The request does not fit the balance's kind", errors)
    assert given is not None
    if money:
        require_minor_units(given, balance.currency, field=f"{prefix}amount")
    return given


def _grant(balance: Balance, grant: GrantIn, kind: Kind, on: date, at: datetime, prefix: str) -> Transaction:
    quantity = _wanted(balance, grant.amount, grant.quantity, prefix)
    return balance.grant(
        transaction_id=_txn_id(),
        kind=kind,
        quantity=quantity,
        unit_price=grant.unit_price,
        expires_on=grant.expires_on,
        on=on,
        at=at,
        field_prefix=prefix,
    )


async def _account_of(uow: RatingUnitOfWork, balance: Balance) -> Account:
    account = await uow.subscriptions.account(balance.account_id)
    if account is None:
        raise NotFound("account", balance.account_id)
    return account


async def _commit_change(uow: RatingUnitOfWork, balance: Balance, action: str, on: date) -> BalancePublic:
    uow.audit(action, "balance", balance.id, movements_audit(balance))
    emit_recorded(uow, balance, uow.clock.now())
    await uow.balances.save(balance)
    await uow.commit()
    return await _view(uow, balance, on)


async def _view(uow: RatingUnitOfWork, balance: Balance, on: date) -> BalancePublic:
    recent, _ = await uow.balances.recent_transactions(balance.id, RECENT_TRANSACTIONS)
    return balance_public(balance, on, recent)
