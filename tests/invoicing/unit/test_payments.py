"""The payment rules with plain values: allocation oldest first or as named, account credit,
refunds and reversals taking back credit first then the latest allocations, the retry schedule,
amounts in 0-, 2- and 3-decimal currencies. Numbers worked by hand in each test's docstring."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.domain.payments import (
    AllocationSource,
    GatewayAttempt,
    OpenInvoice,
    Payment,
    PaymentConflict,
    PaymentMethodKind,
    PaymentState,
    PlannedAllocation,
    RefundKind,
    RefundTooLarge,
    next_retry_on,
    oldest_first,
    plan_allocations,
    require_payment_amount,
    take_credit,
)
from libs.platform.errors import ValidationFailed

AT = datetime(2026, 8, 10, 15, tzinfo=UTC)
D = Decimal


def _open(number: str, on: date, due: str, invoice_id: str | None = None) -> OpenInvoice:
    return OpenInvoice(invoice_id or f"inv_{number[-1]}", number, on, D(due))


def _payment(amount: str, currency: str = "USD", **fields: object) -> Payment:
    values: dict[str, object] = {
        "id": "pay_1",
        "account_id": "acct_1",
        "currency": currency,
        "amount": D(amount),
        "method_kind": PaymentMethodKind.CHECK,
        "created_at": AT,
        "state": PaymentState.DECLINED,
    }
    values.update(fields)
    return Payment(**values)  # type: ignore[arg-type]


def test_open_invoices_are_paid_oldest_first_by_invoice_date_then_number() -> None:
    """July's INV-3 (200.00) first, then August's INV-1 (300.00) before August's INV-2: 650.00 pays
    200.00 + 300.00 and 150.00 of INV-2 (250.00 due), nothing left over."""
    invoices = [
        _open("INV-2026-000002", date(2026, 8, 1), "250.00"),
        _open("INV-2026-000001", date(2026, 8, 1), "300.00"),
        _open("INV-2026-000003", date(2026, 7, 1), "200.00"),
    ]
    planned, rest = plan_allocations(D("650.00"), oldest_first(invoices))
    assert [(p.invoice_number, p.amount) for p in planned] == [
        ("INV-2026-000003", D("200.00")),
        ("INV-2026-000001", D("300.00")),
        ("INV-2026-000002", D("150.00")),
    ]
    assert rest == D("0.00")


def test_an_overpayment_leaves_the_rest_as_account_credit() -> None:
    """1,000.00 on one invoice of 900.00: 900.00 applied, 100.00 credit."""
    planned, rest = plan_allocations(D("1000.00"), [_open("INV-1", date(2026, 8, 1), "900.00")])
    assert [p.amount for p in planned] == [D("900.00")]
    assert rest == D("100.00")


def test_named_invoices_are_paid_in_the_order_named() -> None:
    """Named newest first: the newer (300.00) is paid whole, the older gets the other 100.00."""
    older, newer = _open("INV-1", date(2026, 7, 1), "300.00"), _open("INV-2", date(2026, 8, 1), "300.00")
    planned, rest = plan_allocations(D("400.00"), [newer, older])
    assert [(p.invoice_number, p.amount) for p in planned] == [("INV-2", D("300.00")), ("INV-1", D("100.00"))]
    assert rest == 0


@pytest.mark.parametrize(
    ("amount", "currency", "stored"),
    [("1000", "JPY", "1000"), ("12.5", "USD", "12.50"), ("1.25", "BHD", "1.250")],
)
def test_amounts_keep_the_currencys_minor_units(amount: str, currency: str, stored: str) -> None:
    assert str(require_payment_amount(D(amount), currency)) == stored


@pytest.mark.parametrize(
    ("amount", "currency"), [("1000.5", "JPY"), ("10.005", "USD"), ("1.2345", "BHD"), ("0", "USD")]
)
def test_an_amount_beyond_the_minor_units_or_not_positive_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValidationFailed):
        require_payment_amount(D(amount), currency)


def _received(amount: str, *allocations: tuple[str, str]) -> Payment:
    payment = _payment(amount)
    planned = [PlannedAllocation(f"inv_{n}", f"INV-{n}", D(a)) for n, a in allocations]
    payment.receive(on=date(2026, 8, 10), at=AT, allocations=planned)
    return payment


def test_a_refund_takes_the_account_credit_first_then_the_latest_allocation() -> None:
    """1,000.00 paid INV-1 400.00 and INV-2 500.00, 100.00 credit. A refund of 250.00: 100.00 of
    credit, then 150.00 from INV-2 (the latest); INV-1 keeps its 400.00."""
    payment = _received("1000.00", ("1", "400.00"), ("2", "500.00"))
    credit, taken = payment.plan_take_back(D("250.00"))
    assert credit == D("100.00")
    assert [(a.invoice_id, amount) for a, amount in taken] == [("inv_2", D("150.00"))]
    payment.give_back(credit, taken, kind=RefundKind.REFUND, reason=None)
    assert (payment.unapplied, payment.applied, payment.refunded) == (D("0.00"), D("750.00"), D("250.00"))
    assert payment.refundable == D("750.00")
    assert payment.state is PaymentState.RECEIVED


def test_a_refund_of_more_than_remains_is_refused_and_changes_nothing() -> None:
    payment = _received("100.00", ("1", "100.00"))
    payment.give_back(*payment.plan_take_back(D("60.00")), kind=RefundKind.REFUND, reason=None)
    with pytest.raises(RefundTooLarge):
        payment.plan_take_back(D("40.01"))
    assert payment.refunded == D("60.00")
    payment.give_back(*payment.plan_take_back(D("40.00")), kind=RefundKind.REFUND, reason=None)
    assert payment.state is PaymentState.REFUNDED


def test_a_reversal_takes_back_everything_and_then_nothing_more_can_be() -> None:
    """A 700.00 check on INV-1 (300.00) and INV-2 (400.00) bounces: both reopened, latest first."""
    payment = _received("700.00", ("1", "300.00"), ("2", "400.00"))
    credit, taken = payment.plan_take_back(payment.refundable)
    assert credit == 0
    assert [(a.invoice_id, amount) for a, amount in taken] == [("inv_2", D("400.00")), ("inv_1", D("300.00"))]
    payment.give_back(credit, taken, kind=RefundKind.REVERSAL, reason="NSF")
    assert payment.state is PaymentState.REVERSED and payment.applied == 0
    with pytest.raises(PaymentConflict):
        payment.plan_take_back(D("1.00"))


def test_credit_is_taken_from_the_oldest_payments_first() -> None:
    """Two credits, 30.00 (older) and 50.00: an invoice of 60.00 takes 30.00 then 30.00."""
    older = _received("130.00", ("1", "100.00"))
    newer = _received("50.00")
    newer.id, newer.received_at = "pay_2", datetime(2026, 8, 11, tzinfo=UTC)
    taken = take_credit([newer, older], D("60.00"))
    assert [(p.id, amount) for p, amount in taken] == [("pay_1", D("30.00")), ("pay_2", D("30.00"))]
    older.allocate(PlannedAllocation("inv_9", "INV-9", D("30.00")), at=AT, source=AllocationSource.CREDIT)
    assert older.unapplied == 0 and older.applied == D("130.00")


def test_declines_are_retried_after_1_3_and_7_days_then_given_up() -> None:
    """First declined on August 10: retries on the 11th, 13th and 17th; declined on the 17th: failed."""
    payment = _payment("100.00", method_kind=PaymentMethodKind.CARD)
    days = [date(2026, 8, 10), date(2026, 8, 11), date(2026, 8, 13), date(2026, 8, 17)]
    seen = []
    for number, on in enumerate(days, start=1):
        payment.decline(GatewayAttempt(number, on, AT, False, "tok_decline", "do_not_honor"))
        seen.append((payment.state, payment.next_retry_on))
    assert seen == [
        (PaymentState.DECLINED, date(2026, 8, 11)),
        (PaymentState.DECLINED, date(2026, 8, 13)),
        (PaymentState.DECLINED, date(2026, 8, 17)),
        (PaymentState.FAILED, None),
    ]
    assert next_retry_on(date(2026, 2, 27), 1, (1, 3, 7)) == date(2026, 3, 2)


def test_a_retry_run_late_is_not_due_again_the_same_day() -> None:
    """Declined August 1; the job next runs on August 10 and it declines again: the schedule's
    August 4 has passed, so the next retry is August 11, not the 10th again."""
    payment = _payment("100.00", method_kind=PaymentMethodKind.CARD)
    payment.decline(GatewayAttempt(1, date(2026, 8, 1), AT, False, "tok_decline", "do_not_honor"))
    payment.decline(GatewayAttempt(2, date(2026, 8, 10), AT, False, "tok_decline", "do_not_honor"))
    assert (payment.state, payment.next_retry_on) == (PaymentState.DECLINED, date(2026, 8, 11))


@given(
    amount=st.integers(min_value=1, max_value=10**9),
    dues=st.lists(st.integers(min_value=1, max_value=10**8), max_size=8),
    places=st.sampled_from([0, 2, 3]),
)
def test_allocation_never_loses_or_makes_money(amount: int, dues: list[int], places: int) -> None:
    """Applied + credit is the payment; no invoice gets more than its due."""
    scale = D(1).scaleb(-places)
    invoices = [
        _open(f"INV-{i}", date(2026, 8, 1), str(D(d) * scale), f"inv_{i}") for i, d in enumerate(dues)
    ]
    planned, rest = plan_allocations(D(amount) * scale, invoices)
    assert sum((p.amount for p in planned), D(0)) + rest == D(amount) * scale
    due = {i.id: i.amount_due for i in invoices}
    assert all(p.amount <= due[p.invoice_id] for p in planned)
    assert rest >= 0
