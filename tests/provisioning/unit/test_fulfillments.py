"""Fulfillments: committed-license consumption (EXAMPLES case 2) and pay-as-you-go (case 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.contracts.vocabulary import LicenseType
from libs.platform.errors import Conflict, NotFound, ValidationFailed
from provisioning.domain.fulfillments import (
    CommittedLicenseBalance,
    Fulfillment,
    FulfillmentCancelled,
    FulfillmentCompleted,
    FulfillmentStatus,
    committed_balances,
)
from provisioning.domain.orders import OrderStatus, SalesOrder

from .factories import approved_order, discount, draft_order, line

PM = "usr_pm"
WORKSHOP_DAY = date(2026, 5, 14)


def committed_bundle_order() -> SalesOrder:
    """Case 2: 300 committed bundles (platform, workshop seat, assessment) plus a workshop."""
    return approved_order(
        line(quantity="300", license_type=LicenseType.COMMITTED, product_id="prod_platform"),
        line(quantity="300", license_type=LicenseType.COMMITTED, product_id="prod_seat"),
        line(quantity="300", license_type=LicenseType.COMMITTED, product_id="prod_assessment"),
        line(quantity="1", price="5000.00", license_type=LicenseType.NONE, product_id="prod_vilt"),
    )


def payg_order() -> SalesOrder:
    """Case 3: platform 150.00/user, workshop license 400.00/attendee, delivery 5,000.00."""
    return approved_order(
        line(quantity="15", price="150.00", license_type=LicenseType.PAY_AS_YOU_GO),
        line(quantity="15", price="400.00", license_type=LicenseType.PAY_AS_YOU_GO),
        line(quantity="1", price="5000.00", license_type=LicenseType.NONE),
    )


def all_lines(order: SalesOrder, quantity: str) -> dict[str, Decimal]:
    """The same quantity on every line of the order."""
    return {ol.id: Decimal(quantity) for ol in order.lines}


def remaining(balances: dict[str, CommittedLicenseBalance]) -> list[Decimal]:
    """What remains on each committed line."""
    return [b.remaining for b in balances.values()]


def test_case_2_mass_launch_then_a_cohort_of_10_that_becomes_12() -> None:
    order = committed_bundle_order()
    bundle = order.lines[:3]
    workshop = order.lines[3]
    balances = committed_balances(order, [])
    assert remaining(balances) == [Decimal(300)] * 3

    launch = Fulfillment.record_completed(
        order,
        {ol.id: Decimal(100) for ol in bundle},
        balances=balances,
        on=date(2026, 4, 1),
        by=PM,
    )
    assert launch.associated_project_id is None
    completed = launch.events[-1]
    assert isinstance(completed, FulfillmentCompleted)
    assert [ln.consumed_quantity for ln in completed.lines] == [Decimal(100)] * 3
    assert [ln.billable_quantity for ln in completed.lines] == [Decimal(0)] * 3
    assert not completed.is_billable  # already paid upfront: no invoice
    assert remaining(balances) == [Decimal(200)] * 3

    cohort = Fulfillment.schedule(
        order,
        {**{ol.id: Decimal(10) for ol in bundle}, workshop.id: Decimal(1)},
        balances=balances,
        associated_project_id="vilt_2026_05",
        by=PM,
    )
    # Launched ahead of the workshop: committed consumption counts at launch.
    assert remaining(balances) == [Decimal(190)] * 3
    for ol in bundle:
        cohort.update_quantity(ol.id, Decimal(12), balances=balances)
    assert remaining(balances) == [Decimal(188)] * 3

    cohort.complete(on=WORKSHOP_DAY, by=PM)
    assert cohort.status is FulfillmentStatus.COMPLETED
    event = cohort.events[-1]
    assert isinstance(event, FulfillmentCompleted)
    assert event.associated_project_id == "vilt_2026_05"
    billable = {ln.product_id: ln.billable_quantity for ln in event.lines}
    assert billable == {
        "prod_platform": Decimal(0),
        "prod_seat": Decimal(0),
        "prod_assessment": Decimal(0),
        "prod_vilt": Decimal(1),
    }
    # The balance rebuilt from the stored fulfillments agrees with the running one.
    assert remaining(committed_balances(order, [launch, cohort])) == [Decimal(188)] * 3


def test_case_3_pay_as_you_go_bills_actuals_on_one_completion() -> None:
    order = payg_order()
    platform, license_, workshop = order.lines
    fulfillment = Fulfillment.schedule(
        order,
        {platform.id: Decimal(15), license_.id: Decimal(15), workshop.id: Decimal(1)},
        balances={},
        associated_project_id="vilt_sigura",
        by=PM,
    )
    fulfillment.update_quantity(license_.id, Decimal(12), balances={})
    fulfillment.complete(on=WORKSHOP_DAY, by=PM)

    event = fulfillment.events[-1]
    assert isinstance(event, FulfillmentCompleted)
    assert [ln.billable_quantity for ln in event.lines] == [Decimal(15), Decimal(12), Decimal(1)]
    total = sum(ln.billable_quantity * ln.unit_list_price for ln in event.lines)
    assert total == Decimal("12050.00")
    assert {ln.currency for ln in event.lines} == {"USD"}


def test_a_discounted_line_carries_its_percent_to_invoicing() -> None:
    order = approved_order(line(license_type=LicenseType.NONE, discounts=[discount("10", threshold="10")]))
    fulfillment = Fulfillment.record_completed(
        order, all_lines(order, "1"), balances={}, on=WORKSHOP_DAY, by=PM
    )
    event = fulfillment.events[-1]
    assert isinstance(event, FulfillmentCompleted)
    assert event.lines[0].discount_percent == Decimal(10)


def test_launching_past_the_commitment_is_refused_and_consumes_nothing() -> None:
    order = committed_bundle_order()
    balances = committed_balances(order, [])
    first, second = order.lines[0], order.lines[1]
    with pytest.raises(ValidationFailed) as caught:
        Fulfillment.schedule(
            order,
            {first.id: Decimal(301), second.id: Decimal(10)},
            balances=balances,
            by=PM,
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [
        (f"lines.{first.id}.quantity", "over_commitment")
    ]
    assert remaining(balances) == [Decimal(300)] * 3


def test_raising_a_scheduled_quantity_past_the_commitment_is_refused() -> None:
    order = committed_bundle_order()
    balances = committed_balances(order, [])
    first = order.lines[0]
    fulfillment = Fulfillment.schedule(order, {first.id: Decimal(295)}, balances=balances, by=PM)
    with pytest.raises(ValidationFailed) as caught:
        fulfillment.update_quantity(first.id, Decimal(301), balances=balances)
    assert caught.value.errors[0].code == "over_commitment"
    assert fulfillment.line(first.id).quantity == Decimal(295)
    assert balances[first.id].remaining == Decimal(5)


def test_lowering_a_scheduled_quantity_gives_licenses_back() -> None:
    order = committed_bundle_order()
    balances = committed_balances(order, [])
    first = order.lines[0]
    fulfillment = Fulfillment.schedule(order, {first.id: Decimal(15)}, balances=balances, by=PM)
    fulfillment.update_quantity(first.id, Decimal(12), balances=balances)
    assert balances[first.id].remaining == Decimal(288)


def test_cancelling_a_scheduled_session_releases_its_launches() -> None:
    order = committed_bundle_order()
    balances = committed_balances(order, [])
    first = order.lines[0]
    fulfillment = Fulfillment.schedule(order, {first.id: Decimal(10)}, balances=balances, by=PM)
    fulfillment.cancel(balances=balances, by=PM)
    assert fulfillment.status is FulfillmentStatus.CANCELLED
    assert isinstance(fulfillment.events[-1], FulfillmentCancelled)
    assert balances[first.id].remaining == Decimal(300)
    assert committed_balances(order, [fulfillment])[first.id].remaining == Decimal(300)


def test_schedule_reports_unknown_lines_and_bad_quantities_together() -> None:
    order = payg_order()
    with pytest.raises(ValidationFailed) as caught:
        Fulfillment.schedule(
            order,
            {"oli_missing": Decimal(1), order.lines[0].id: Decimal(0)},
            balances={},
            by=PM,
        )
    assert {e.field for e in caught.value.errors} == {
        "lines.oli_missing",
        f"lines.{order.lines[0].id}.quantity",
    }
    with pytest.raises(ValidationFailed):
        Fulfillment.schedule(order, {}, balances={}, by=PM)


def test_only_approved_orders_can_be_fulfilled() -> None:
    order = draft_order(line())
    assert order.status is OrderStatus.DRAFT
    with pytest.raises(Conflict):
        Fulfillment.schedule(order, all_lines(order, "1"), balances={}, by=PM)


def test_a_line_not_in_the_fulfillment_is_not_found() -> None:
    order = payg_order()
    fulfillment = Fulfillment.schedule(order, {order.lines[0].id: Decimal(1)}, balances={}, by=PM)
    with pytest.raises(NotFound):
        fulfillment.update_quantity(order.lines[1].id, Decimal(2), balances={})
    with pytest.raises(ValidationFailed):
        fulfillment.update_quantity(order.lines[0].id, Decimal(-1), balances={})


def scheduled() -> Fulfillment:
    """A scheduled pay-as-you-go fulfillment of one of everything, events cleared."""
    order = payg_order()
    fulfillment = Fulfillment.schedule(order, all_lines(order, "1"), balances={}, by=PM)
    fulfillment.events.clear()
    return fulfillment


ACTIONS: dict[str, Callable[[Fulfillment], None]] = {
    "update": lambda f: f.update_quantity(f.lines[0].order_line_id, Decimal(2), balances={}),
    "complete": lambda f: f.complete(on=WORKSHOP_DAY, by=PM),
    "cancel": lambda f: f.cancel(balances={}, by=PM),
}


@pytest.mark.parametrize("ending", ["complete", "cancel"])
@pytest.mark.parametrize("action", ["update", "complete", "cancel"])
def test_nothing_changes_after_completion_or_cancellation(ending: str, action: str) -> None:
    fulfillment = scheduled()
    ACTIONS[ending](fulfillment)
    status = fulfillment.status
    events = list(fulfillment.events)
    with pytest.raises(Conflict):
        ACTIONS[action](fulfillment)
    assert fulfillment.status is status
    assert fulfillment.events == events
    assert fulfillment.lines[0].quantity == Decimal(1)


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=8))
def test_remaining_never_goes_negative_and_matches_the_stored_fulfillments(
    cohorts: list[int],
) -> None:
    order = approved_order(line(quantity="300", license_type=LicenseType.COMMITTED))
    committed_line = order.lines[0]
    balances = committed_balances(order, [])
    recorded: list[Fulfillment] = []
    for size in cohorts:
        quantities = {committed_line.id: Decimal(size)}
        if 0 < size <= balances[committed_line.id].remaining:
            recorded.append(Fulfillment.schedule(order, quantities, balances=balances, by=PM))
        else:
            with pytest.raises(ValidationFailed):
                Fulfillment.schedule(order, quantities, balances=balances, by=PM)
    running = balances[committed_line.id]
    assert Decimal(0) <= running.remaining <= Decimal(300)
    assert committed_balances(order, recorded)[committed_line.id] == running
