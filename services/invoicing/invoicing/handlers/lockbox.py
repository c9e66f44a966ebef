"""Use cases of lockbox files: import a bank's check file in one call, read its report, apply an
unmatched line by hand.

Importing: the file's SHA-256 is looked up first — a file imported before answers its first
report and changes nothing. Otherwise every line is read and matched (`domain/lockbox.py`) and each
line that names an invoice or an account we know becomes a check payment (`payments.stage_payment`,
dated its deposit day, referenced by its check number), each in a savepoint: a line the payment
rules refuse is kept unmatched with the refusal as its reason, and the others go on. The file, its
lines, their payments and the events (each `payment.received`, then `lockbox_file.imported` with
the counts and the payments made) commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from invoicing.domain.invoices import InvoiceState
from invoicing.domain.lockbox import (
    ImportedLine,
    InvoiceOnFile,
    LineStatus,
    LineTarget,
    LockboxFile,
    LockboxLine,
    content_hash,
    read_lockbox_file,
    target_of,
)
from invoicing.domain.payments import PaymentMethodKind
from invoicing.events import lockbox as lockbox_events
from invoicing.handlers.payment_gateway_port import PaymentGateway
from invoicing.handlers.payments import PaymentRequest, stage_payment
from libs.platform.errors import Conflict, DomainError, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


class LineAlreadyApplied(Conflict):
    """The lockbox line has made its payment already (409)."""


async def import_lockbox_file(
    *, uow: InvoicingUnitOfWork, gateway: PaymentGateway, content: bytes, filename: str | None
) -> tuple[LockboxFile, bool]:
    """Import a lockbox file (422 when it does not read); the file and whether this call imported it
    (False: the same bytes were imported before, and that import is answered unchanged)."""
    digest = content_hash(content)
    existing = await uow.lockbox.find_by_hash(digest)
    if existing is not None:
        return existing, False
    lines = read_lockbox_file(content)
    file = LockboxFile(new_id("lbx"), digest, filename, uow.clock.now(), [])
    for line in lines:
        file.lines.append(await _apply_line(uow, gateway, file.id, line))
    if not await uow.lockbox.add(file):
        # Imported by another request meanwhile: its import stands, ours is undone.
        raise Conflict("this lockbox file is being imported by another request; ask again for its report")
    made = {i.payment_id: await uow.payments.get(i.payment_id) for i in file.lines if i.payment_id}
    uow.emit_outgoing(lockbox_events.file_imported(file, made))
    uow.audit(
        "lockbox_file.imported",
        "lockbox_file",
        file.id,
        {
            "content_hash": digest,
            "lines": len(file.lines),
            **{status.value: file.count(status) for status in LineStatus},
        },
    )
    await uow.commit()
    return file, True


async def apply_line(
    *,
    uow: InvoicingUnitOfWork,
    gateway: PaymentGateway,
    file_id: str,
    number: int,
    account_id: str,
    invoice_ids: Sequence[str] = (),
) -> ImportedLine:
    """Apply an unmatched line by hand to an account (its named invoices, else oldest first): a check
    payment is taken as the line says. 404 an unknown file or line; 409 a line already applied; 422 a
    line whose amount or date could not be read."""
    file = await uow.lockbox.get(file_id)
    imported = file.line(number)
    if imported is None:
        raise NotFound("lockbox line", f"{file_id}/{number}")
    if imported.payment_id is not None:
        raise LineAlreadyApplied(f"line {number} made payment {imported.payment_id} already")
    line = imported.line
    if line.amount is None or line.deposit_date is None:
        raise ValidationFailed.single("number", f"line {number} cannot be applied: {line.problem}")
    account = await uow.billing_inputs.find_account(account_id)
    if account is None:
        raise NotFound("account", account_id)
    payment = await stage_payment(
        uow=uow,
        gateway=gateway,
        request=PaymentRequest(
            account_id=account_id,
            amount=line.amount,
            currency=line.currency or account.currency,
            method_kind=PaymentMethodKind.CHECK,
            reference=line.check_number,
            invoice_ids=tuple(invoice_ids),
            received_on=line.deposit_date,
        ),
        lockbox_line=f"{file_id}:{number}",
    )
    imported.status, imported.payment_id = LineStatus.APPLIED_MANUALLY, payment.id
    imported.line = replace(line, currency=payment.currency)
    await uow.lockbox.save_line(file_id, imported)
    uow.audit("lockbox_line.applied", "lockbox_file", file_id, {"line": number, "payment_id": payment.id})
    await uow.commit()
    return imported


async def get_lockbox_file(*, uow: InvoicingUnitOfWork, file_id: str) -> LockboxFile:
    """One imported file with its lines (404 when unknown)."""
    return await uow.lockbox.get(file_id)


async def list_lockbox_files(*, uow: InvoicingUnitOfWork, page: PageRequest) -> Page[LockboxFile]:
    """A page of imported files, in import order."""
    return await uow.lockbox.page(page)


async def _apply_line(
    uow: InvoicingUnitOfWork, gateway: PaymentGateway, file_id: str, line: LockboxLine
) -> ImportedLine:
    target = await _target(uow, line)
    if target.account_id is None or target.currency is None or line.amount is None:
        return ImportedLine(line, LineStatus.UNMATCHED, target.reason)
    request = PaymentRequest(
        account_id=target.account_id,
        amount=line.amount,
        currency=target.currency,
        method_kind=PaymentMethodKind.CHECK,
        reference=line.check_number,
        invoice_ids=(target.invoice_id,) if target.invoice_id else (),
        received_on=line.deposit_date,
    )
    try:
        async with uow.savepoint():
            payment = await stage_payment(
                uow=uow, gateway=gateway, request=request, lockbox_line=f"{file_id}:{line.number}"
            )
    except DomainError as refused:
        return ImportedLine(line, LineStatus.UNMATCHED, f"refused: {refused}")
    return ImportedLine(replace(line, currency=target.currency), target.status, target.reason, payment.id)


async def _target(uow: InvoicingUnitOfWork, line: LockboxLine) -> LineTarget:
    invoice: InvoiceOnFile | None = None
    if line.invoice_number:
        invoice_id = await uow.payments.invoice_id_of_number(line.invoice_number)
        found = await uow.invoices.find(invoice_id) if invoice_id else None
        if found is not None:
            invoice = InvoiceOnFile(
                found.id,
                found.number_text or found.id,
                found.account_id,
                found.currency,
                found.amount_due,
                found.state in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID),
            )
    account_currency = None
    if line.account_id:
        account = await uow.billing_inputs.find_account(line.account_id)
        account_currency = account.currency if account is not None else None
    return target_of(line, invoice, account_currency)
