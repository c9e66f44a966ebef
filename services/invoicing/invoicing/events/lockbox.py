"""Lockbox files -> `lockbox_file.imported`, keyed by the file (libs/contracts/payments.py)."""

from __future__ import annotations

from collections.abc import Mapping

from invoicing.domain.lockbox import LineStatus, LockboxFile
from invoicing.domain.payments import Payment
from libs.contracts import payments as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out


def file_imported(file: LockboxFile, payments: Mapping[str, Payment]) -> tuple[EventPayload, str]:
    """A file's counts by match and the payments its lines made (`payments` by id)."""
    made = []
    for imported in file.lines:
        payment = payments.get(imported.payment_id or "")
        if payment is None:
            continue
        made.append(
            contracts.LockboxPayment(
                line_number=imported.line.number,
                payment_id=payment.id,
                account_id=payment.account_id,
                currency=payment.currency,
                amount=amount_out(payment.amount, payment.currency),
                check_number=imported.line.check_number,
                status=imported.status.value,
            )
        )
    payload = contracts.LockboxFileImported(
        file_id=file.id,
        filename=file.filename,
        content_hash=file.content_hash,
        lines=len(file.lines),
        matched=file.count(LineStatus.MATCHED),
        partly_matched=file.count(LineStatus.PARTLY_MATCHED),
        unmatched=file.count(LineStatus.UNMATCHED),
        payments=made,
        imported_at=file.imported_at,
    )
    return payload, file.id
