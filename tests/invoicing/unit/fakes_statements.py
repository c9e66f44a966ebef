"""The ledger of account activity in memory, answering as `SqlAccountLedger` does: issued invoices
on their invoice date, issued invoices voided on the account-local day of the void, and any other
entries a test records (credit notes, payments: kinds whose concepts have no fake yet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from invoicing.domain.invoices import InvoiceState
from invoicing.domain.statements import EntryKind, LedgerEntry
from invoicing.handlers.statements import AccountActivity, AccountLedger
from libs.platform.periods import local_date
from tests.invoicing.unit.fakes_invoices import InvoiceTables


@dataclass
class RecordedActivity:
    """Entries of other kinds, by account and currency, as tests record them."""

    entries: dict[tuple[str, str], list[LedgerEntry]] = field(default_factory=dict)

    def record(self, account_id: str, currency: str, *entries: LedgerEntry) -> None:
        self.entries.setdefault((account_id, currency), []).extend(entries)


class FakeAccountLedger(AccountLedger):
    """The ledger over the fake invoice tables plus the recorded entries."""

    def __init__(self, invoices: InvoiceTables, recorded: RecordedActivity) -> None:
        self.invoices = invoices
        self.recorded = recorded

    async def account_activity(
        self, account_id: str, currency: str, *, from_: date, to: date, time_zone: str
    ) -> AccountActivity:
        entries = list(self.recorded.entries.get((account_id, currency), []))
        for invoice in self.invoices.invoices.values():
            if (invoice.account_id, invoice.currency) != (account_id, currency):
                continue
            if invoice.invoice_date is None or invoice.finalized_at is None:
                continue
            entries.append(
                LedgerEntry(
                    EntryKind.INVOICE,
                    invoice.invoice_date,
                    invoice.id,
                    invoice.number_text or invoice.id,
                    invoice.total,
                    invoice.finalized_at,
                    due_date=invoice.due_date,
                )
            )
            if invoice.state is InvoiceState.VOID and invoice.voided_at is not None:
                entries.append(
                    LedgerEntry(
                        EntryKind.INVOICE_VOID,
                        local_date(invoice.voided_at, time_zone),
                        invoice.id,
                        invoice.number_text or invoice.id,
                        invoice.total,
                        invoice.voided_at,
                        invoice.void_reason or "",
                        invoice.due_date,
                    )
                )
        before: dict[EntryKind, Decimal] = {}
        for entry in entries:
            if entry.on < from_:
                before[entry.kind] = before.get(entry.kind, Decimal(0)) + entry.amount
        return AccountActivity(before, [e for e in entries if from_ <= e.on <= to])
