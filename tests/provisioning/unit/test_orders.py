"""Sales orders: submission checks, discount approval and the order state machine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import LicenseType
from libs.platform.errors import Conflict, Forbidden, ValidationFailed
from provisioning.domain.orders import (
    OrderApproved,
    OrderCancelled,
    OrderFulfilled,
    OrderKind,
    OrderStatus,
    OrderSubmitted,
    SalesOrder,
)
from provisioning.domain.subscriptions import RenewalKind, RenewalPolicy

from .factories import CLERK, discount, draft_order, line


def fields(error: ValidationFailed) -> set[str]:
    """The field names a 422 would list."""
    return {e.field for e in error.errors}


def in_status(status: OrderStatus) -> SalesOrder:
    """An order brought into `status` through legal transitions."""
    needs_approval = status is OrderStatus.SUBMITTED
    order = draft_order(line(discounts=[discount("25", threshold="10")] if needs_approval else []))
    if status is OrderStatus.CANCELLED:
        order.cancel(by=CLERK)
    elif status is not OrderStatus.DRAFT:
        order.submit(by=CLERK)
    if status is OrderStatus.FULFILLED:
        order.mark_fulfilled(by=CLERK)
    assert order.status is status
    order.events.clear()
    return order


def test_an_order_within_its_thresholds_is_approved_on_submit() -> None:
    order = draft_order(line(discounts=[discount("10", threshold="10")]))
    order.submit(by=CLERK)
    assert order.status is OrderStatus.APPROVED
    assert not order.approval_required
    submitted, approved = order.events
    assert isinstance(submitted, OrderSubmitted)
    assert isinstance(approved, OrderApproved)
    assert approved.automatic
    assert approved.lines == tuple(order.lines)


def test_a_discount_above_its_threshold_waits_for_finance() -> None:
    order = draft_order(line(discounts=[discount("15", threshold="10")]))
    order.submit(by=CLERK)
    assert order.status is OrderStatus.SUBMITTED
    assert order.approval_required
    assert [type(e) for e in order.events] == [OrderSubmitted]

    order.approve(by_role="finance", by="usr_controller")
    assert order.status is OrderStatus.APPROVED
    approved = order.events[-1]
    assert isinstance(approved, OrderApproved)
    assert (approved.approved_by, approved.automatic) == ("usr_controller", False)


def test_an_amount_discount_is_compared_as_a_percent_of_list() -> None:
    # 10 x 100.00 = 1,000.00 list; 150.00 off is 15 % > 10 %.
    order = draft_order(line(discounts=[discount(amount="150.00", threshold="10")]))
    assert order.lines[0].effective_discount_percent == Decimal(15)
    order.submit(by=CLERK)
    assert order.approval_required


def test_several_discounts_add_up_and_never_go_below_zero() -> None:
    stacked = line(discounts=[discount("60", threshold="100"), discount("60", threshold="100")])
    assert stacked.discount_amount == stacked.list_amount
    assert stacked.net_amount == Decimal(0)
    assert stacked.effective_discount_percent == Decimal(100)


def test_only_finance_or_admin_may_approve() -> None:
    order = in_status(OrderStatus.SUBMITTED)
    with pytest.raises(Forbidden):
        order.approve(by_role="crm", by="usr_sales")
    assert order.status is OrderStatus.SUBMITTED
    order.approve(by_role="admin", by="usr_admin")
    assert order.status is OrderStatus.APPROVED


def test_submit_reports_every_line_problem() -> None:
    order = draft_order(
        line(quantity="0"),
        line(currency="EUR", term_months=0),
        line(discounts=[discount("120")]),
    )
    with pytest.raises(ValidationFailed) as caught:
        order.submit(by=CLERK)
    assert fields(caught.value) == {
        "lines.0.quantity",
        "lines.1.currency",
        "lines.1.term_months",
        "lines.2.discounts.0.percent",
    }
    assert order.status is OrderStatus.DRAFT


def test_an_order_needs_a_line() -> None:
    order = SalesOrder.draft(customer_id="cus_test", account_id="acct_test")
    with pytest.raises(ValidationFailed) as caught:
        order.submit(by=CLERK)
    assert fields(caught.value) == {"lines"}


def test_amendment_lines_name_subscription_and_effective_date() -> None:
    bare = draft_order(line(quantity="262"), kind=OrderKind.AMENDMENT)
    with pytest.raises(ValidationFailed) as caught:
        bare.submit(by=CLERK)
    assert fields(caught.value) == {"lines.0.subscription_id", "lines.0.effective_date"}

    amendment = draft_order(
        line(quantity="262", subscription_id="sub_wfm", effective_date=date(2026, 8, 1)),
        kind=OrderKind.AMENDMENT,
    )
    amendment.submit(by=CLERK)
    assert amendment.status is OrderStatus.APPROVED


def test_line_terms_default_to_expire_and_the_whole_committed_license() -> None:
    committed = line(quantity="300", license_type=LicenseType.COMMITTED)
    plain = line(quantity="40")
    assert (committed.renewal_policy.kind, committed.committed_quantity) == (RenewalKind.EXPIRE, 300)
    assert (plain.renewal_policy.kind, plain.committed_quantity) == (RenewalKind.EXPIRE, 0)
    agreed = line(quantity="40", renewal=RenewalPolicy.auto_renew(12), commitment_quantity=Decimal(25))
    assert (agreed.renewal_policy.months, agreed.committed_quantity) == (12, 25)


def test_a_commitment_stays_within_the_quantity_and_only_on_new_lines() -> None:
    order = draft_order(
        line(quantity="10", commitment_quantity=Decimal("10.5")), line(commitment_quantity=Decimal(-1))
    )
    with pytest.raises(ValidationFailed) as caught:
        order.submit(by=CLERK)
    assert fields(caught.value) == {"lines.0.commitment_quantity", "lines.1.commitment_quantity"}

    amendment = draft_order(
        line(
            subscription_id="sub_wfm",
            effective_date=date(2026, 8, 1),
            renewal=RenewalPolicy.expire(),
            commitment_quantity=Decimal(1),
        ),
        kind=OrderKind.AMENDMENT,
    )
    with pytest.raises(ValidationFailed) as caught:
        amendment.submit(by=CLERK)
    assert fields(caught.value) == {"lines.0.renewal", "lines.0.commitment_quantity"}


def test_a_new_order_does_not_change_subscriptions() -> None:
    order = draft_order(line(subscription_id="sub_wfm"))
    with pytest.raises(ValidationFailed) as caught:
        order.submit(by=CLERK)
    assert fields(caught.value) == {"lines.0.subscription_id"}


def test_cancel_from_draft_and_from_submitted() -> None:
    for status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED):
        order = in_status(status)
        order.cancel(by=CLERK, reason="lost deal")
        assert order.status is OrderStatus.CANCELLED
        assert isinstance(order.events[-1], OrderCancelled)


def test_fulfilling_an_approved_order() -> None:
    order = in_status(OrderStatus.APPROVED)
    order.mark_fulfilled(by=CLERK)
    assert order.status is OrderStatus.FULFILLED
    assert isinstance(order.events[-1], OrderFulfilled)


def test_lines_can_be_edited_only_in_draft() -> None:
    order = draft_order()
    extra = line(product_id="prod_extra")
    order.add_line(extra)
    order.remove_line(order.lines[0].id)
    assert [ln.product_id for ln in order.lines] == ["prod_extra"]
    order.submit(by=CLERK)
    with pytest.raises(Conflict):
        order.add_line(line())
    with pytest.raises(Conflict):
        order.remove_line(extra.id)


ACTIONS: dict[str, Callable[[SalesOrder], None]] = {
    "submit": lambda o: o.submit(by=CLERK),
    "approve": lambda o: o.approve(by_role="finance", by=CLERK),
    "cancel": lambda o: o.cancel(by=CLERK),
    "fulfil": lambda o: o.mark_fulfilled(by=CLERK),
}

ILLEGAL = [
    (OrderStatus.SUBMITTED, "submit"),
    (OrderStatus.APPROVED, "submit"),
    (OrderStatus.FULFILLED, "submit"),
    (OrderStatus.CANCELLED, "submit"),
    (OrderStatus.DRAFT, "approve"),
    (OrderStatus.APPROVED, "approve"),
    (OrderStatus.FULFILLED, "approve"),
    (OrderStatus.CANCELLED, "approve"),
    (OrderStatus.APPROVED, "cancel"),
    (OrderStatus.FULFILLED, "cancel"),
    (OrderStatus.CANCELLED, "cancel"),
    (OrderStatus.DRAFT, "fulfil"),
    (OrderStatus.SUBMITTED, "fulfil"),
    (OrderStatus.FULFILLED, "fulfil"),
    (OrderStatus.CANCELLED, "fulfil"),
]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_illegal_transitions_conflict(status: OrderStatus, action: str) -> None:
    order = in_status(status)
    with pytest.raises(Conflict):
        ACTIONS[action](order)
    assert order.status is status
    assert order.events == []


money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
percents = st.decimals(min_value="0.01", max_value=100, places=2, allow_nan=False)


@given(
    quantity=st.integers(min_value=1, max_value=1_000),
    price=money,
    percents_off=st.lists(percents, max_size=3),
    amounts_off=st.lists(money.filter(lambda a: a > 0), max_size=2),
)
def test_discounts_never_take_a_line_below_zero(
    quantity: int, price: Decimal, percents_off: list[Decimal], amounts_off: list[Decimal]
) -> None:
    discounts = [discount(str(p), threshold="100") for p in percents_off] + [
        discount(amount=str(a), threshold="100") for a in amounts_off
    ]
    stacked = line(quantity=str(quantity), price=str(price), discounts=discounts)
    assert Decimal(0) <= stacked.net_amount <= stacked.list_amount
    assert Decimal(0) <= stacked.effective_discount_percent <= Decimal(100)
    assert stacked.net_amount + stacked.discount_amount == stacked.list_amount
