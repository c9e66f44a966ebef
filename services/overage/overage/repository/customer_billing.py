"""Customer invoice lines in SQL (`payables_billed_lines`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from overage.domain.customer_billing import BilledLine
from overage.domain.margins import BilledAmount
from overage.handlers.customer_billing_port import CustomerBilling
from overage.models.cases import CaseNoticeRow
from overage.models.customer_billing import PayablesBilledLineRow
from overage.models.vendor_payables import VendorCommitmentRow

Row = PayablesBilledLineRow


class SqlCustomerBilling(CustomerBilling):
    """Billed lines over the overage database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_lines(self, lines: list[BilledLine]) -> None:
        """Insert the lines not kept yet (an invoice is finalized once; a redelivery adds nothing)."""
        invoice_ids = {line.invoice_id for line in lines}
        kept = set(
            (
                await self.session.exec(
                    select(Row.invoice_id, Row.charge_key).where(col(Row.invoice_id).in_(invoice_ids))
                )
            ).all()
        )
        for line in lines:
            if (line.invoice_id, line.charge_key) in kept:
                continue
            kept.add((line.invoice_id, line.charge_key))
            self.session.add(
                Row(
                    invoice_id=line.invoice_id,
                    charge_key=line.charge_key,
                    account_id=line.account_id,
                    subscription_id=line.subscription_id,
                    currency=line.currency,
                    period_start=line.period_start,
                    period_end=line.period_end,
                    invoice_date=line.invoice_date,
                    amount=line.amount,
                    void=False,
                    rebill_key=line.rebill_key,
                )
            )
        await self.session.flush()

    async def credit_lines(
        self, *, credit_note_id: str, invoice_id: str, credits: list[tuple[str, Decimal]], note_date: date
    ) -> None:
        """Insert a negative line per credited kept line (once: a redelivered note adds nothing)."""
        keys = [key for key, _ in credits]
        originals = {
            row.charge_key: row
            for row in (
                await self.session.exec(
                    select(Row).where(col(Row.invoice_id) == invoice_id, col(Row.charge_key).in_(keys))
                )
            ).all()
        }
        kept = set(
            (
                await self.session.exec(select(Row.charge_key).where(col(Row.invoice_id) == credit_note_id))
            ).all()
        )
        for key, amount in credits:
            original = originals.get(key)
            if original is None or key in kept:
                continue
            kept.add(key)
            self.session.add(
                Row(
                    invoice_id=credit_note_id,
                    charge_key=key,
                    account_id=original.account_id,
                    subscription_id=original.subscription_id,
                    currency=original.currency,
                    period_start=original.period_start,
                    period_end=original.period_end,
                    invoice_date=note_date,
                    amount=-amount,
                    void=False,
                    rebill_key=original.rebill_key,
                )
            )
        await self.session.flush()

    async def void_invoice(self, invoice_id: str) -> None:
        """Mark the invoice's lines void."""
        await self.session.exec(update(Row).where(col(Row.invoice_id) == invoice_id).values(void=True))

    async def resale_amounts(self, start: date, end: date, account_id: str | None) -> list[BilledAmount]:
        """Sums of committed subscriptions' lines and overage re-bills per account, currency, start.

        A re-bill (and a credit on it) counts from its notice's period, not from the day its line
        was billed for (the day the notice was worked): the month the overage is for.
        """
        committed = select(VendorCommitmentRow.subscription_id)
        period = func.coalesce(col(CaseNoticeRow.period_start), col(Row.period_start))
        stmt = (
            select(col(Row.account_id), col(Row.currency), period, func.sum(col(Row.amount)))
            .select_from(Row)
            .outerjoin(CaseNoticeRow, col(CaseNoticeRow.charge_key) == col(Row.rebill_key))
            .where(
                period >= start,
                period < end,
                col(Row.void).is_(False),
                or_(col(Row.subscription_id).in_(committed), col(Row.rebill_key).is_not(None)),
            )
        )
        if account_id is not None:
            stmt = stmt.where(col(Row.account_id) == account_id)
        stmt = stmt.group_by(col(Row.account_id), col(Row.currency), period)
        rows = (await self.session.exec(stmt)).all()
        return [BilledAmount(a, c, _day(p), amount) for a, c, p, amount in rows]


def _day(value: date | str) -> date:
    """A date column through COALESCE (SQLite hands back its text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
