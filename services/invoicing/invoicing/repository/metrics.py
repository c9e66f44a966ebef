"""Finance metrics in SQL: one grouped query for every dated movement, one for recurring prices.

Both join a small table of the months asked (a CTE of one SELECT per month), so each is one statement for the
whole range, however many months: movements are summed per month and currency in the database
(exact `SUM` over money on SQLite and PostgreSQL), everything before the first month in one
opening row; the recurring prices take, per month and subscription, the version in force at the
month's end with `ROW_NUMBER()` (latest effective date, then latest event) and sum quantities per
price. Arithmetic on money is done in Python (`invoicing.domain.metrics`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, String, and_, cast, func, literal, null, or_, select, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.invoices import InvoiceState
from invoicing.domain.metrics import OPENING, Movement, RecurringPrice, term_months
from invoicing.domain.payments import AllocationSource, PaymentMethodKind
from invoicing.domain.revenue import month_start, next_month
from invoicing.handlers.metrics_port import MetricsRepository
from invoicing.models.billing_inputs import PriceTermsRow, SubscriptionVersionRow
from invoicing.models.credits import CreditNoteRow
from invoicing.models.invoices import InvoiceRow
from invoicing.models.payments import PaymentAllocationRow, PaymentRefundRow, PaymentRow
from libs.platform.db import UtcDateTime

INVOICES = InvoiceRow.__table__  # type: ignore[attr-defined]
CREDIT_NOTES = CreditNoteRow.__table__  # type: ignore[attr-defined]
PAYMENTS = PaymentRow.__table__  # type: ignore[attr-defined]
ALLOCATIONS = PaymentAllocationRow.__table__  # type: ignore[attr-defined]
REFUNDS = PaymentRefundRow.__table__  # type: ignore[attr-defined]
VERSIONS = SubscriptionVersionRow.__table__  # type: ignore[attr-defined]
PRICES = PriceTermsRow.__table__  # type: ignore[attr-defined]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _months_table(months: list[str], *, opening: bool) -> Any:
    """A CTE (month, starts, ends, starts_at, ends_at): each month's first day and the next month's, as
    dates and as UTC midnights; the opening row has no start and ends where the first month starts."""
    rows: list[tuple[str, date | None, date, datetime | None, datetime]] = []
    if opening:
        first = month_start(months[0])
        rows.append((OPENING, None, first, None, _midnight(first)))
    for month in months:
        start = month_start(month)
        end = next_month(start)
        rows.append((month, start, end, _midnight(start), _midnight(end)))

    def row(
        month: str, starts: date | None, ends: date, starts_at: datetime | None, ends_at: datetime
    ) -> Any:
        return select(
            literal(month, String).label("month"),
            (cast(null(), Date) if starts is None else literal(starts, Date)).label("starts"),
            literal(ends, Date).label("ends"),
            (cast(null(), UtcDateTime()) if starts_at is None else literal(starts_at, UtcDateTime())).label(
                "starts_at"
            ),
            literal(ends_at, UtcDateTime()).label("ends_at"),
        )

    return union_all(*(row(*values) for values in rows)).cte("m")


def _sum(m: Any, table: Any, kind: Movement, amount: Any, *where: Any, on: Any = None, at: Any = None) -> Any:
    return _sum_over(m, table, table.c.currency, kind, amount, *where, on=on, at=at)


def _sum_over(
    m: Any,
    from_: Any,
    currency: Any,
    kind: Movement,
    amount: Any,
    *where: Any,
    on: Any = None,
    at: Any = None,
) -> Any:
    """SUM(amount) per month and currency of rows dated `on` (a date) or `at` (an instant)."""
    if on is not None:
        within = and_(or_(m.c.starts.is_(None), on >= m.c.starts), on < m.c.ends)
    else:
        within = and_(or_(m.c.starts_at.is_(None), at >= m.c.starts_at), at < m.c.ends_at)
    return (
        select(
            currency.label("currency"),
            m.c.month.label("month"),
            literal(kind.value, String).label("kind"),
            func.sum(amount).label("amount"),
        )
        .select_from(from_.join(m, within))
        .where(*where)
        .group_by(currency, m.c.month)
    )


class SqlMetricsRepository(MetricsRepository):
    """Finance metrics over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def movements(
        self, months: list[str], currency: str | None
    ) -> list[tuple[str, str, Movement, Decimal]]:
        """Every movement of money per month (and before the first) and currency, in one UNION ALL."""
        m = _months_table(months, opening=True)
        i, n, p, a, r = INVOICES, CREDIT_NOTES, PAYMENTS, ALLOCATIONS, REFUNDS
        issued = [i.c.state != InvoiceState.DRAFT.value, i.c.invoice_date.is_not(None)]
        applied = ALLOCATIONS.join(PAYMENTS, ALLOCATIONS.c.payment_id == PAYMENTS.c.id)
        sources = [
            _sum(m, i, Movement.ISSUED, i.c.total, *issued, on=i.c.invoice_date),
            _sum(
                m,
                i,
                Movement.VOIDED,
                i.c.total,
                *issued,
                i.c.state == InvoiceState.VOID.value,
                at=i.c.voided_at,
            ),
            _sum(m, n, Movement.CREDITED, n.c.total, on=n.c.note_date),
            _sum(m, n, Movement.CREDITED_TO_ACCOUNT, n.c.account_credit, on=n.c.note_date),
            _sum(
                m,
                i,
                Movement.WRITTEN_OFF,
                i.c.written_off,
                i.c.written_off_at.is_not(None),
                at=i.c.written_off_at,
            ),
            _sum(
                m,
                p,
                Movement.PAID_IN,
                p.c.amount,
                p.c.received_on.is_not(None),
                # Credit an invoice carried to the account moved no money: it is not collected.
                p.c.method_kind != PaymentMethodKind.CREDIT.value,
                on=p.c.received_on,
            ),
            _sum(m, r, Movement.REFUNDED, r.c.amount, at=r.c.created_at),
            _sum(m, r, Movement.REFUNDED_FROM_CREDIT, r.c.account_credit_used, at=r.c.created_at),
            *(
                _sum_over(
                    m,
                    applied,
                    p.c.currency,
                    Movement.APPLIED,
                    a.c.amount,
                    a.c.source == source.value,
                    **dated,
                )
                for source, dated in (
                    (AllocationSource.PAYMENT, {"on": p.c.received_on}),
                    (AllocationSource.CREDIT, {"at": a.c.applied_at}),
                )
            ),
        ]
        if currency is not None:
            sources = [source.where(source.selected_columns.currency == currency) for source in sources]
        rows = (await self.session.exec(union_all(*sources))).all()  # type: ignore[call-overload]
        return [
            (code, month, Movement(kind), Decimal(amount))
            for code, month, kind, amount in rows
            if amount is not None
        ]

    async def recurring_prices(self, months: list[str], currency: str | None) -> list[RecurringPrice]:
        """Per month, the versions in force at its end that are active, in term and recurring,
        their quantities summed per price (one query)."""
        m = _months_table(months, opening=False)
        v = VERSIONS
        last_day = m.c.ends  # exclusive: the version in force on the month's last day
        ranked = select(
            m.c.month.label("month"),
            m.c.ends.label("ends"),
            v.c.currency,
            v.c.state,
            v.c.quantity,
            v.c.unit_price,
            v.c.discount_percent,
            v.c.charge_type,
            v.c.billing_period,
            v.c.price_id,
            v.c.price_version,
            v.c.term_start,
            v.c.term_end,
            func.row_number()
            .over(
                partition_by=(m.c.month, v.c.subscription_id),
                order_by=(v.c.effective_date.desc(), v.c.event_at.desc(), v.c.event_id.desc()),
            )
            .label("rank"),
        ).select_from(v.join(m, v.c.effective_date < last_day))
        if currency is not None:
            ranked = ranked.where(v.c.currency == currency)
        s = ranked.subquery("in_force")
        price = PRICES
        charge = func.coalesce(s.c.charge_type, price.c.charge_type, "recurring")
        period = func.coalesce(s.c.billing_period, price.c.billing_period, "monthly")
        stmt = (
            select(
                s.c.month,
                s.c.currency,
                period.label("period"),
                s.c.unit_price,
                s.c.discount_percent,
                s.c.term_start,
                s.c.term_end,
                func.sum(s.c.quantity).label("quantity"),
            )
            .select_from(
                s.outerjoin(
                    price,
                    and_(price.c.price_id == s.c.price_id, price.c.version == s.c.price_version),
                )
            )
            .where(
                s.c.rank == 1,
                s.c.state == "active",
                s.c.term_start < s.c.ends,
                s.c.term_end >= s.c.ends,
                charge == "recurring",
            )
            .group_by(
                s.c.month,
                s.c.currency,
                period,
                s.c.unit_price,
                s.c.discount_percent,
                s.c.term_start,
                s.c.term_end,
            )
        )
        rows = (await self.session.exec(stmt)).all()  # type: ignore[call-overload]
        return [
            RecurringPrice(
                month=row.month,
                currency=row.currency,
                billing_period=row.period,
                unit_price=Decimal(row.unit_price),
                discount_percent=Decimal(row.discount_percent),
                quantity=Decimal(row.quantity),
                term_months=term_months(row.term_start, row.term_end),
            )
            for row in rows
        ]
