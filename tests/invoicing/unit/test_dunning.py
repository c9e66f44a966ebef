"""Dunning policies with plain values: which steps an account has reached (days, amount per
currency, each once), the 422s of a malformed policy, and a used policy that never changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from invoicing.domain.collections import CloseReason, CollectionsCase, OpenInvoice, past_due_of
from invoicing.domain.dunning import DunningAction, DunningPolicy, DunningStep, PolicyInUse, check_steps
from libs.platform.errors import ValidationFailed

NOW = datetime(2026, 10, 2, 14, tzinfo=UTC)
REMINDER = DunningStep(1, DunningAction.REMINDER, {"USD": Decimal("50.00")})
ESCALATE = DunningStep(15, DunningAction.ESCALATE)
SUSPEND = DunningStep(30, DunningAction.SUSPEND, {"USD": Decimal("100.00"), "JPY": Decimal("10000")})
WRITE_OFF = DunningStep(90, DunningAction.WRITE_OFF)


def policy(*steps: DunningStep, in_use: bool = False) -> DunningPolicy:
    return DunningPolicy.create(
        id="dpol_1", name="Standard", steps=steps, created_at=NOW, updated_at=NOW, in_use=in_use
    )


def test_the_steps_reached_by_days_and_amount_each_once() -> None:
    standard = policy(REMINDER, ESCALATE, SUSPEND, WRITE_OFF)

    def due(days: int, amount: str, currency: str = "USD", taken: tuple[int, ...] = ()) -> list[int]:
        found = standard.steps_due(days=days, amount=Decimal(amount), currency=currency, taken=set(taken))
        return [number for number, _ in found]

    assert due(0, "500.00") == []
    assert due(1, "500.00") == [1]
    assert due(1, "50.00") == []  # above the threshold, strictly
    assert due(1, "50.01") == [1]
    assert due(15, "500.00", taken=(1,)) == [2]
    assert due(30, "100.00", taken=(1, 2)) == []
    assert due(30, "100.01", taken=(1, 2)) == [3]
    assert due(45, "500.00") == [1, 2, 3]  # a missed run takes every step reached
    assert due(90, "0.01", taken=(1, 2)) == [4]
    assert due(30, "9999", "JPY", taken=(1, 2)) == []
    assert due(30, "10001", "JPY", taken=(1, 2)) == [3]
    assert due(1, "0.01", "EUR") == [1]  # no threshold in EUR: any amount past due


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([], "steps"),
        (
            [DunningStep(30, DunningAction.REMINDER), DunningStep(10, DunningAction.SUSPEND)],
            "steps.1.days_past_due",
        ),
        ([DunningStep(-5, DunningAction.REMINDER)], "steps.0.days_past_due"),
        ([DunningStep(0, DunningAction.REMINDER)], "steps.0.days_past_due"),
        ([WRITE_OFF, DunningStep(120, DunningAction.SUSPEND)], "steps.0.action"),
        ([DunningStep(1, DunningAction.REMINDER, {"JPY": Decimal("10.5")})], "steps.0.min_amounts.JPY"),
        ([DunningStep(1, DunningAction.REMINDER, {"USD": Decimal("-1.00")})], "steps.0.min_amounts.USD"),
        ([DunningStep(1, DunningAction.REMINDER, {"ABC": Decimal("1")})], "steps.0.min_amounts.ABC"),
    ],
)
def test_a_malformed_policy_is_refused_with_the_field_at_fault(steps: list[DunningStep], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_steps(steps)
    assert field in [error.field for error in refused.value.errors]


def test_equal_days_keep_their_order() -> None:
    same_day = check_steps([DunningStep(30, DunningAction.ESCALATE), DunningStep(30, DunningAction.SUSPEND)])
    assert [s.action for s in same_day] == [DunningAction.ESCALATE, DunningAction.SUSPEND]


def test_a_used_policy_never_changes() -> None:
    used = policy(REMINDER, in_use=True)
    with pytest.raises(PolicyInUse):
        used.revise(name="Softer", description=None, steps=[ESCALATE], at=NOW)
    assert used.steps == (REMINDER,)


def test_past_due_counts_invoices_due_before_the_date_and_the_oldest_days() -> None:
    invoices = [
        OpenInvoice("inv_a", "INV-2026-000001", "acct_1", "USD", date(2026, 9, 1), Decimal("120.50")),
        OpenInvoice("inv_b", "INV-2026-000002", "acct_1", "USD", date(2026, 10, 1), Decimal("79.50")),
        OpenInvoice("inv_c", "INV-2026-000003", "acct_1", "USD", date(2026, 10, 2), Decimal("1000.00")),
        OpenInvoice("inv_d", "INV-2026-000004", "acct_1", "EUR", date(2026, 9, 1), Decimal("5.00")),
    ]

    late = past_due_of(invoices, account_id="acct_1", currency="USD", on=date(2026, 10, 2))

    # Due Sep 1 and Oct 1 are past due on Oct 2 (31 and 1 days); due Oct 2 is not yet.
    assert (str(late.amount), late.days, [i.invoice_id for i in late.invoices]) == (
        "200.00",
        31,
        ["inv_a", "inv_b"],
    )


def test_closing_a_case_asks_for_resumption_only_when_it_suspended_and_was_paid() -> None:
    def case() -> CollectionsCase:
        return CollectionsCase(
            "col_1", "acct_1", "USD", "dpol_1", date(2026, 10, 2), NOW, "finance", date(2026, 10, 2)
        )

    paid = case()
    assert paid.close(reason=CloseReason.PAID, at=NOW, by="finance") is False
    suspended = case()
    suspended.suspended = True
    assert suspended.close(reason=CloseReason.PAID, at=NOW, by="finance") is True
    written_off = case()
    written_off.suspended = True
    assert written_off.close(reason=CloseReason.WRITTEN_OFF, at=NOW, by="finance") is False
