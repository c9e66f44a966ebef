"""Use cases of collections: the daily run, settling an account after a payment, reading cases.

The run pages through the accounts with an open invoice due before its date, or an open case
(`ReceivablesRepository.past_due_accounts_page`), a page per transaction, reading each page's
invoices, cases, policies and assignments with one query per kind. Per account and currency:

- past due and no open case → open one under the account's policy (its own, else the default;
  none → left alone and counted);
- each step the account has reached is taken once: its row is inserted (the unique constraint on
  case and step refuses a second), then its request is published (reminder, escalation,
  suspension) or its invoices are written off;
- nothing past due on the latest date the case was looked at → the case closes, and asks for the
  account's resumption if it had suspended it.

`settle_collections_for_account` does the last part alone, right after a payment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.collections import (
    CaseStep,
    CloseReason,
    CollectionsCase,
    OpenInvoice,
    PastDue,
    past_due_of,
)
from invoicing.domain.dunning import DunningAction, DunningPolicy, DunningStep
from invoicing.events import collections as events
from invoicing.handlers.collections_port import CaseFilters
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from libs.platform.periods import local_date

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork

RUN_PAGE_ACCOUNTS = 200
"""Accounts a run reads and collects in one transaction."""


@dataclass
class CollectionsRunTally:
    """What a collections run did."""

    on: date
    accounts: int = 0
    cases_opened: int = 0
    cases_closed: int = 0
    steps_taken: Counter[str] = field(default_factory=Counter)
    invoices_written_off: int = 0
    resumes_requested: int = 0
    accounts_without_policy: int = 0


async def run_collections(
    units_of_work: Callable[[], InvoicingUnitOfWork], *, on: date, page_accounts: int = RUN_PAGE_ACCOUNTS
) -> CollectionsRunTally:
    """The collections run of `on` (the job's and the CLI's): a page of accounts per transaction."""
    tally = CollectionsRunTally(on=on)
    after: str | None = None
    while True:
        async with units_of_work() as uow:
            account_ids = await _collect_page(uow, on=on, after=after, limit=page_accounts, tally=tally)
            await uow.commit()
        if len(account_ids) < page_accounts:
            return tally
        after = account_ids[-1]


async def run_collections_in(
    uow: InvoicingUnitOfWork, *, on: date, page_accounts: int = RUN_PAGE_ACCOUNTS
) -> CollectionsRunTally:
    """The collections run of `on` in one transaction (`POST /v1/collections/runs`: one request,
    one commit, so its Idempotency-Key replays it whole), still reading a page of accounts at a time."""
    tally = CollectionsRunTally(on=on)
    after: str | None = None
    while True:
        account_ids = await _collect_page(uow, on=on, after=after, limit=page_accounts, tally=tally)
        if len(account_ids) < page_accounts:
            break
        after = account_ids[-1]
    uow.audit("collections_run.completed", "collections_run", on.isoformat(), _tally_changes(tally))
    await uow.commit()
    return tally


async def _collect_page(
    uow: InvoicingUnitOfWork, *, on: date, after: str | None, limit: int, tally: CollectionsRunTally
) -> list[str]:
    account_ids = await uow.receivables.past_due_accounts_page(on=on, after=after, limit=limit)
    if account_ids:
        await collect_accounts(uow, account_ids, on=on, tally=tally)
        tally.accounts += len(account_ids)
    return account_ids


def _tally_changes(tally: CollectionsRunTally) -> dict[str, object]:
    return {
        "accounts": tally.accounts,
        "cases_opened": tally.cases_opened,
        "cases_closed": tally.cases_closed,
        "steps_taken": dict(tally.steps_taken),
    }


async def collect_accounts(
    uow: InvoicingUnitOfWork, account_ids: Sequence[str], *, on: date, tally: CollectionsRunTally
) -> None:
    """Open, step and close the cases of a page of accounts on `on`, in the caller's transaction."""
    invoices = await uow.receivables.open_invoices(account_ids)
    cases = {(c.account_id, c.currency): c for c in await uow.collections_cases.open_cases(account_ids)}
    assigned = await uow.dunning_policies.assigned(account_ids)
    policies = _Policies(uow, account_ids)
    currencies: dict[str, set[str]] = {}
    for key in [*((i.account_id, i.currency) for i in invoices), *cases]:
        currencies.setdefault(key[0], set()).add(key[1])
    for account_id in account_ids:
        for currency in sorted(currencies.get(account_id, ())):
            policy_id = assigned.get(account_id)
            await _collect(
                uow,
                account_id,
                currency,
                on=on,
                invoices=invoices,
                case=cases.get((account_id, currency)),
                policies=policies,
                policy_id=policy_id,
                tally=tally,
            )


async def settle_collections_for_account(
    uow: InvoicingUnitOfWork, account_id: str, at: datetime
) -> list[CollectionsCase]:
    """Close the account's open cases with nothing past due any more (after a payment, say), asking
    for its resumption where a case had suspended it; the closed cases. The caller commits."""
    cases = await uow.collections_cases.open_cases([account_id])
    if not cases:
        return []
    account = await uow.billing_inputs.find_account(account_id)
    today = local_date(at, account.time_zone if account is not None else "UTC")
    invoices = await uow.receivables.open_invoices([account_id])
    closed: list[CollectionsCase] = []
    for case in cases:
        if await _close_if_settled(uow, case, invoices, on=today, at=at):
            closed.append(case)
    return closed


async def get_case(*, uow: InvoicingUnitOfWork, case_id: str) -> CollectionsCase:
    """One case with its steps (404 when unknown)."""
    return await uow.collections_cases.get(case_id)


async def list_cases(
    *, uow: InvoicingUnitOfWork, filters: CaseFilters, page: PageRequest
) -> Page[CollectionsCase]:
    """A page of cases in opening order, narrowed by account and state."""
    return await uow.collections_cases.page(filters, page)


# --- one account and currency ------------------------------------------------------------


class _Policies:
    """What a page of accounts needs once: its policies (each read once, marked in use once) and
    its accounts' profiles (read in one query the first time a step needs a contact)."""

    def __init__(self, uow: InvoicingUnitOfWork, account_ids: Sequence[str]) -> None:
        self.uow = uow
        self.account_ids = account_ids
        self.by_id: dict[str, DunningPolicy | None] = {}
        self.default_read = False
        self.default_policy: DunningPolicy | None = None
        self.marked: set[str] = set()
        self.profiles: dict[str, BillingAccount] | None = None

    async def mark_in_use(self, policy: DunningPolicy) -> None:
        if policy.id not in self.marked and not policy.in_use:
            await self.uow.dunning_policies.mark_in_use(policy.id)
        self.marked.add(policy.id)

    async def account(self, account_id: str) -> BillingAccount | None:
        if self.profiles is None:
            self.profiles = await self.uow.receivables.accounts(self.account_ids)
        return self.profiles.get(account_id)

    async def get(self, policy_id: str) -> DunningPolicy | None:
        if policy_id not in self.by_id:
            self.by_id[policy_id] = await self.uow.dunning_policies.find(policy_id)
        return self.by_id[policy_id]

    async def default(self) -> DunningPolicy | None:
        if not self.default_read:
            self.default_policy = await self.uow.dunning_policies.default()
            self.default_read = True
        return self.default_policy


async def _collect(
    uow: InvoicingUnitOfWork,
    account_id: str,
    currency: str,
    *,
    on: date,
    invoices: Collection[OpenInvoice],
    case: CollectionsCase | None,
    policies: _Policies,
    policy_id: str | None,
    tally: CollectionsRunTally,
) -> None:
    now = uow.clock.now()
    if case is not None and await _close_if_settled(uow, case, invoices, on=on, at=now):
        tally.cases_closed += 1
        tally.resumes_requested += int(case.resume_requested)
        return
    past_due = past_due_of(invoices, account_id=account_id, currency=currency, on=on)
    if past_due.amount <= 0:
        return
    if case is None:
        policy = await (policies.get(policy_id) if policy_id is not None else policies.default())
        if policy is None:
            tally.accounts_without_policy += 1
            return
        case = await _open_case(uow, past_due, policy, on=on, at=now)
        await policies.mark_in_use(policy)
        if case is None:
            return  # a run at the same time opened it and takes its steps
        tally.cases_opened += 1
    policy = await policies.get(case.policy_id)
    assert policy is not None, "a policy in use is never deleted"
    changed = on > case.last_run_on
    case.looked_at(on)
    for number, step in policy.steps_due(
        days=past_due.days, amount=past_due.amount, currency=currency, taken=case.taken
    ):
        taken = CaseStep(
            step_number=number,
            action=step.action,
            run_on=on,
            days_past_due=past_due.days,
            past_due_amount=past_due.amount,
            taken_at=now,
            taken_by=uow.actor,
            detail=events.reason_of(past_due),
        )
        if not await uow.collections_cases.add_step(case, taken):
            continue  # taken by a run at the same time
        case.record(taken)
        changed = True
        await policies.mark_in_use(policy)
        tally.steps_taken[step.action.value] += 1
        account = await policies.account(account_id)
        await _take(uow, case, step, taken, past_due, account, tally)
        uow.audit(
            f"collections_case.{step.action.value}",
            "collections_case",
            case.id,
            {"step_number": number, "days_past_due": past_due.days, "past_due_amount": str(past_due.amount)},
        )
        if step.action is DunningAction.WRITE_OFF:
            case.close(reason=CloseReason.WRITTEN_OFF, at=now, by=uow.actor)
            uow.emit(events.case_closed(case), key=case.account_id)
            uow.audit("collections_case.closed", "collections_case", case.id, {"reason": "written_off"})
            tally.cases_closed += 1
            break
    if changed:
        await uow.collections_cases.save(case)


async def _open_case(
    uow: InvoicingUnitOfWork, past_due: PastDue, policy: DunningPolicy, *, on: date, at: datetime
) -> CollectionsCase | None:
    case = CollectionsCase(
        id=new_id("col"),
        account_id=past_due.account_id,
        currency=past_due.currency,
        policy_id=policy.id,
        opened_on=on,
        opened_at=at,
        opened_by=uow.actor,
        last_run_on=on,
    )
    if not await uow.collections_cases.add(case):
        return None
    uow.emit(events.case_opened(case, past_due), key=case.account_id)
    uow.audit(
        "collections_case.opened",
        "collections_case",
        case.id,
        {"policy_id": policy.id, "past_due_amount": str(past_due.amount), "opened_on": on.isoformat()},
    )
    return case


async def _take(
    uow: InvoicingUnitOfWork,
    case: CollectionsCase,
    step: DunningStep,
    taken: CaseStep,
    past_due: PastDue,
    account: BillingAccount | None,
    tally: CollectionsRunTally,
) -> None:
    request = events.step_taken(case, taken, past_due, account)
    if request is not None:
        uow.emit(request, key=case.account_id)
        return
    reason = f"written off by collections case {case.id}: {taken.detail}"
    for open_invoice in past_due.invoices:
        invoice = await uow.invoices.lock(open_invoice.invoice_id)
        amount = invoice.write_off(at=taken.taken_at)
        await uow.invoices.save(invoice)
        uow.emit(events.written_off(invoice, amount, reason, taken.taken_at), key=invoice.account_id)
        uow.audit("invoice.written_off", "invoice", invoice.id, {"amount": str(amount), "case_id": case.id})
        tally.invoices_written_off += 1


async def _close_if_settled(
    uow: InvoicingUnitOfWork,
    case: CollectionsCase,
    invoices: Collection[OpenInvoice],
    *,
    on: date,
    at: datetime,
) -> bool:
    """Close the case when nothing is past due on the latest date it was looked at (or `on`)."""
    latest = max(on, case.last_run_on)
    if past_due_of(invoices, account_id=case.account_id, currency=case.currency, on=latest).amount > 0:
        return False
    resume = case.close(reason=CloseReason.PAID, at=at, by=uow.actor)
    await uow.collections_cases.save(case)
    uow.emit(events.case_closed(case), key=case.account_id)
    if resume:
        uow.emit(events.resume_requested(case), key=case.account_id)
    uow.audit(
        "collections_case.closed", "collections_case", case.id, {"reason": "paid", "resume_requested": resume}
    )
    return True
