"""Statements of account: the port of the ledger they are read from, and the use case.

The ledger is not a table: it is the account's activity as each finance concept records it —
invoices today; credit notes, adjustments and payments as those concepts arrive. The SQL side
(`invoicing.repository.statements`) reads one query per kind of entry; a concept adds its kind
(`invoicing.domain.statements.EntryKind`) and its query (`LEDGER_SOURCES` there), nothing else.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.statements import (
    EntryKind,
    LedgerEntry,
    Statement,
    opening_balance,
    statement_period,
)
from libs.platform.errors import NotFound
from libs.platform.money import minor_units

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


@dataclass(frozen=True)
class AccountActivity:
    """What the ledger holds for one account and currency around a period."""

    before: dict[EntryKind, Decimal] = field(default_factory=dict)
    """Per kind, the sum of the amounts (as their documents state them) dated before the period."""
    entries: list[LedgerEntry] = field(default_factory=list)
    """The entries dated in the period."""


class AccountLedger(abc.ABC):
    """The account's activity, read from the documents of every concept (SQL: `SqlAccountLedger`)."""

    @abc.abstractmethod
    async def account_activity(
        self, account_id: str, currency: str, *, from_: date, to: date, time_zone: str
    ) -> AccountActivity:
        """Sums per kind of everything dated before `from_` and the entries dated in [`from_`, `to`],
        in `time_zone`'s dates (an entry recorded at an instant counts on that instant's local day).
        The sums are computed by the database: an account's whole history is never loaded."""


@dataclass(frozen=True)
class AccountStatement:
    """A statement with the account it is addressed to."""

    account: BillingAccount
    statement: Statement


async def statement_for(
    *,
    uow: InvoicingUnitOfWork,
    account_id: str,
    from_: date | None = None,
    to: date | None = None,
    currency: str | None = None,
) -> AccountStatement:
    """The statement of an account (404 when unknown) over [from_, to] in its local dates — by
    default this month to date — in its currency unless another is asked for; a start after the
    end or a range over five years is a 422."""
    account = await uow.billing_inputs.find_account(account_id)
    if account is None:
        raise NotFound("account", account_id)
    period = statement_period(from_, to, today=uow.business_date(account.time_zone))
    in_currency = currency or account.currency
    minor_units(in_currency)  # an unknown currency is a 422
    activity = await uow.account_ledger.account_activity(
        account_id, in_currency, from_=period.start, to=period.end, time_zone=account.time_zone
    )
    statement = Statement.of(
        account_id=account_id,
        currency=in_currency,
        period=period,
        previous_balance=opening_balance(activity.before, in_currency),
        entries=activity.entries,
    )
    return AccountStatement(account, statement)
