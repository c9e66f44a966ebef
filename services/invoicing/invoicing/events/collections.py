"""Collections cases and their steps -> `collections.*` and `invoice.written_off`, keyed by the account."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.collections import CaseStep, CollectionsCase, PastDue
from invoicing.domain.dunning import DunningAction
from invoicing.domain.invoices import Invoice
from invoicing.domain.receivables import days_past_due
from libs.contracts import collections as contracts
from libs.contracts.envelope import EventPayload
from libs.contracts.payments import InvoiceWrittenOff
from libs.platform.money import amount_out


def reason_of(past_due: PastDue) -> str:
    """Why, in the collections team's words: how much is past due, how late the oldest invoice is."""
    count = len(past_due.invoices)
    oldest = past_due.invoices[0].invoice_number if past_due.invoices else None
    what = f"invoice {oldest}" if count == 1 and oldest else f"{count} invoices"
    amount = amount_out(past_due.amount, past_due.currency)
    return f"{what} past due ({amount} {past_due.currency}), the oldest {past_due.days} days"


def case_opened(case: CollectionsCase, past_due: PastDue) -> EventPayload:
    """`collections.case_opened`."""
    return contracts.CollectionsCaseOpened(
        case_id=case.id,
        account_id=case.account_id,
        currency=case.currency,
        policy_id=case.policy_id,
        opened_on=case.opened_on,
        past_due_amount=amount_out(past_due.amount, case.currency),
        days_past_due=past_due.days,
        opened_at=case.opened_at,
    )


def case_closed(case: CollectionsCase) -> EventPayload:
    """`collections.case_closed`."""
    assert case.close_reason is not None and case.closed_at is not None
    return contracts.CollectionsCaseClosed(
        case_id=case.id,
        account_id=case.account_id,
        currency=case.currency,
        reason=case.close_reason.value,
        resume_requested=case.resume_requested,
        closed_at=case.closed_at,
    )


def resume_requested(case: CollectionsCase) -> EventPayload:
    """`collections.resume_requested` for the account of a case closed because it was paid."""
    assert case.closed_at is not None
    return contracts.ResumeRequested(
        account_id=case.account_id,
        reason=f"past-due {case.currency} balance paid (collections case {case.id})",
        requested_at=case.closed_at,
    )


def step_taken(
    case: CollectionsCase, step: CaseStep, past_due: PastDue, account: BillingAccount | None
) -> EventPayload | None:
    """The request a reminder, escalation or suspension step makes (a write-off publishes per invoice)."""
    common = {
        "account_id": case.account_id,
        "reason": step.detail,
        "requested_at": step.taken_at,
    }
    if step.action is DunningAction.SUSPEND:
        return contracts.SuspendRequested(**common)
    case_step = {
        **common,
        "case_id": case.id,
        "step_number": step.step_number,
        "policy_id": case.policy_id,
        "currency": case.currency,
        "past_due_amount": amount_out(past_due.amount, case.currency),
        "days_past_due": past_due.days,
        "invoices": [
            contracts.PastDueInvoice(
                invoice_id=i.invoice_id,
                invoice_number=i.invoice_number,
                due_date=i.due_date,
                amount_due=amount_out(i.amount_due, i.currency),
                days_past_due=days_past_due(i.due_date, past_due.on),
            )
            for i in past_due.invoices
        ],
    }
    if step.action is DunningAction.REMINDER:
        return contracts.ReminderRequested(
            **case_step, billing_email=None if account is None else account.billing_email
        )
    if step.action is DunningAction.ESCALATE:
        return contracts.CollectionsEscalated(
            **case_step,
            crm_owner_name=None if account is None else account.crm_owner_name,
            crm_owner_email=None if account is None else account.crm_owner_email,
        )
    return None


def written_off(invoice: Invoice, amount: Decimal, reason: str, at: datetime) -> EventPayload:
    """`invoice.written_off` for what a write-off step took off an invoice."""
    return InvoiceWrittenOff(
        invoice_id=invoice.id,
        invoice_number=invoice.number_text or invoice.id,
        account_id=invoice.account_id,
        currency=invoice.currency,
        amount=amount_out(amount, invoice.currency),
        reason=reason,
        written_off_at=at,
    )
