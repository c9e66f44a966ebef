"""Provisioning's handlers on the fake unit of work: what they store, emit and refuse — no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from libs.platform.errors import Conflict, ValidationFailed
from provisioning.domain.fulfillments import FulfillmentStatus
from provisioning.domain.orders import OrderStatus
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.handlers import customers, fulfillments, orders, subscriptions, workflows
from provisioning.schemas.customers import AccountCreate, AccountUpdate, BillingProfileIn, CustomerCreate
from provisioning.schemas.fulfillments import FulfillmentCreate
from provisioning.schemas.orders import OrderCreate, OrderLineIn, OrderPublic
from provisioning.schemas.subscriptions import SubscriptionAction
from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.unit.fakes import FakeProvisioningUnitOfWork

CLERK = "key:clerk"


@pytest.fixture
def uow() -> FakeProvisioningUnitOfWork:
    return FakeProvisioningUnitOfWork()


@pytest.fixture
def catalog() -> InMemoryCatalog:
    fake = InMemoryCatalog()
    fake.add_product("prod_support", price_id="price_support", unit_price="300.00")
    fake.add_product(
        "prod_wfm", price_id="price_wfm", unit_price="12.00", kind="license", vendor_id="ven_wfm"
    )
    fake.add_product(
        "prod_seat",
        price_id="price_seat",
        unit_price="350.00",
        license_type="committed",
        charge_type="one_time",
        billing_period=None,
    )
    fake.add_discount("disc_partner", percent="10", threshold="15")
    fake.add_discount("disc_strategic", percent="25", threshold="15")
    return fake


async def _account(uow: FakeProvisioningUnitOfWork, customer_id: str | None = None) -> str:
    if customer_id is None:
        registered = await customers.register_customer(
            uow=uow, command=CustomerCreate(name="Redfin"), actor=CLERK
        )
        customer_id = registered.id
    profile = BillingProfileIn.model_validate(
        {"currency": "USD", "contacts": [{"name": "Ada", "email": "ap@redfin.example", "role": "billing"}]}
    )
    command = AccountCreate(customer_id=customer_id, name="Redfin Ops", billing_profile=profile)
    return (await customers.open_account(uow=uow, command=command, actor=CLERK)).id


async def _order(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog, account_id: str, *lines: dict[str, Any]
) -> OrderPublic:
    command = OrderCreate(account_id=account_id, lines=[OrderLineIn.model_validate(line) for line in lines])
    return await orders.create_order(uow=uow, catalog=catalog, command=command, actor=CLERK)


def _support(quantity: int = 10, **terms: Any) -> dict[str, Any]:
    return {"price_id": "price_support", "quantity": quantity, "effective_date": "2027-01-01", **terms}


# ----- orders -------------------------------------------------------------------------------


async def test_a_draft_order_is_priced_by_the_catalog_and_stored(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    account_id = await _account(uow)

    order = await _order(uow, catalog, account_id, _support(10, discount_ids=["disc_partner"]))

    assert (order.status, order.list_total, order.discount_total, order.net_total) == (
        OrderStatus.DRAFT,
        Decimal("3000.00"),
        Decimal("300.00"),
        Decimal("2700.00"),
    )
    assert (await orders.get_order(uow=uow, order_id=order.id)) == order
    assert uow.audits[-1].action == "order.drafted"
    # A draft is nobody else's business: no event leaves the service.
    assert "order.submitted" not in uow.event_types


async def test_submitting_within_thresholds_approves_and_provisions_at_once(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    account_id = await _account(uow)
    order = await _order(uow, catalog, account_id, _support(10), {"price_id": "price_wfm", "quantity": 250})

    submitted = await orders.submit_order(uow=uow, catalog=catalog, order_id=order.id, actor=CLERK)

    assert (submitted.status, submitted.approval_required) == (OrderStatus.APPROVED, False)
    assert uow.event_types[-4:] == [
        "workflow.started",
        "workflow.started",
        "order.submitted",
        "order.approved",
    ]
    subs = await subscriptions.list_subscriptions(
        uow=uow, page=_first_page(), account_id=account_id, state=None, order_id=order.id
    )
    assert sorted((s.product_id, s.state, s.term_end) for s in subs.data) == [
        ("prod_support", SubscriptionState.PENDING, date(2028, 1, 1)),
        # No term on the line: the resold-seats template's 36 months (issue 7 item 7).
        ("prod_wfm", SubscriptionState.PENDING, _resold_seats_term_end()),
    ]
    flows = await workflows.list_workflows(
        uow=uow, page=_first_page(), order_id=order.id, account_id=None, status=None
    )
    # A product bought from a vendor is resold seats: it gets the vendor paperwork workflow.
    assert sorted(f.template_name for f in flows.data) == ["resold_wfm_seats", "standard_activation"]


async def test_a_discount_over_its_threshold_waits_for_finance(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    account_id = await _account(uow)
    order = await _order(uow, catalog, account_id, _support(10, discount_ids=["disc_strategic"]))

    submitted = await orders.submit_order(uow=uow, catalog=catalog, order_id=order.id, actor=CLERK)
    assert (submitted.status, submitted.approval_required) == (OrderStatus.SUBMITTED, True)
    assert uow.subscriptions.subscriptions == {}

    approved = await orders.approve_order(uow=uow, order_id=order.id, role="finance", actor="key:finance")
    assert (approved.status, approved.approved_by) == (OrderStatus.APPROVED, "key:finance")
    assert uow.event_types[-2:] == ["workflow.started", "order.approved"]
    assert len(uow.subscriptions.subscriptions) == 1


async def test_a_submitted_order_cannot_be_submitted_again_and_nothing_is_emitted(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    account_id = await _account(uow)
    order = await _order(uow, catalog, account_id, _support())
    await orders.submit_order(uow=uow, catalog=catalog, order_id=order.id, actor=CLERK)
    before = (len(uow.envelopes), uow.commits)

    with pytest.raises(Conflict):
        await orders.submit_order(uow=uow, catalog=catalog, order_id=order.id, actor=CLERK)

    assert (len(uow.envelopes), uow.commits) == before


# ----- subscriptions ------------------------------------------------------------------------


async def _active_subscription(uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog) -> str:
    account_id = await _account(uow)
    order = await _order(uow, catalog, account_id, _support(10, term_months=12))
    await orders.submit_order(uow=uow, catalog=catalog, order_id=order.id, actor=CLERK)
    flows = await workflows.list_workflows(
        uow=uow, page=_first_page(), order_id=order.id, account_id=None, status=None
    )
    for task in flows.data[0].tasks:
        await workflows.start_task(uow=uow, task_id=task.id, actor=CLERK)
        await workflows.complete_task(uow=uow, task_id=task.id, completed_on=date(2027, 1, 1), actor=CLERK)
    subs = await subscriptions.list_subscriptions(
        uow=uow, page=_first_page(), account_id=account_id, state=None, order_id=None
    )
    return subs.data[0].id


async def test_the_last_task_activates_the_subscription_and_fulfils_the_order(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    sub_id = await _active_subscription(uow, catalog)

    sub = await subscriptions.get_subscription(uow=uow, subscription_id=sub_id)
    assert (sub.state, sub.term_start, sub.term_end) == (
        SubscriptionState.ACTIVE,
        date(2027, 1, 1),
        date(2028, 1, 1),
    )
    assert uow.event_types[-3:] == ["subscription.activated", "order.fulfilled", "workflow.completed"]


async def test_suspending_records_history_and_emits_suspended(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    sub_id = await _active_subscription(uow, catalog)

    suspended = await subscriptions.suspend_subscription(
        uow=uow,
        subscription_id=sub_id,
        command=SubscriptionAction(effective_date=date(2027, 3, 1), reason="unpaid"),
        actor=CLERK,
    )

    assert suspended.state is SubscriptionState.SUSPENDED
    event = uow.envelopes[-1]
    assert (event.type, event.payload["reason"], event.payload["effective_date"]) == (
        "subscription.suspended",
        "unpaid",
        "2027-03-01",
    )
    history = await subscriptions.subscription_history(uow=uow, subscription_id=sub_id, page=_first_page())
    assert (history.data[-1].kind.value, history.data[-1].reason) == ("suspend", "unpaid")


async def test_term_ends_renew_or_expire_once(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    sub_id = await _active_subscription(uow, catalog)

    first = await subscriptions.process_term_ends(uow=uow, as_of=date(2028, 1, 1), actor="system")
    again = await subscriptions.process_term_ends(uow=uow, as_of=date(2028, 1, 1), actor="system")

    assert (first.renewed + first.expired, again.renewed + again.expired) == (1, 0)
    sub = await subscriptions.get_subscription(uow=uow, subscription_id=sub_id)
    assert uow.event_types[-1] == f"subscription.{'renewed' if first.renewed else 'expired'}"
    assert sub.state in {SubscriptionState.ACTIVE, SubscriptionState.EXPIRED}


async def test_an_unknown_subscription_is_not_found(uow: FakeProvisioningUnitOfWork) -> None:
    from libs.platform.errors import NotFound

    with pytest.raises(NotFound):
        await subscriptions.get_subscription(uow=uow, subscription_id="sub_missing")


# ----- fulfillments -------------------------------------------------------------------------


async def _committed_order(uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog) -> OrderPublic:
    account_id = await _account(uow)
    order = await _order(uow, catalog, account_id, {"price_id": "price_seat", "quantity": 10})
    return await orders.submit_order(uow=uow, catalog=catalog, order_id=order.id, actor=CLERK)


def _launch(order: OrderPublic, quantity: int, **fields: Any) -> FulfillmentCreate:
    return FulfillmentCreate.model_validate(
        {
            "order_id": order.id,
            "lines": [{"order_line_id": order.lines[0].id, "quantity": quantity}],
            **fields,
        }
    )


async def test_a_completed_launch_consumes_the_commitment_and_is_published_once(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    order = await _committed_order(uow, catalog)

    done = await fulfillments.record_fulfillment(
        uow=uow, command=_launch(order, 4, status="completed", completed_on="2027-02-01"), actor=CLERK
    )

    # Committed licenses are billed on the order: a launch consumes them and bills nothing more.
    assert (done.status, done.billable_total) == (FulfillmentStatus.COMPLETED, Decimal("0.00"))
    assert uow.event_types.count("fulfillment.completed") == 1
    line = uow.envelopes[-1].payload["lines"][0]
    assert (line["consumed_quantity"], line["billable_quantity"]) == ("4", "0")
    balances = await orders.order_commitments(uow=uow, order_id=order.id)
    assert (balances.lines[0].launched, balances.lines[0].remaining) == (Decimal(4), Decimal(6))


async def test_launching_more_than_committed_is_refused_and_changes_nothing(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    order = await _committed_order(uow, catalog)
    await fulfillments.record_fulfillment(uow=uow, command=_launch(order, 8), actor=CLERK)
    before = (len(uow.envelopes), uow.commits, len(uow.fulfillments.fulfillments))

    with pytest.raises(ValidationFailed):
        await fulfillments.record_fulfillment(uow=uow, command=_launch(order, 3), actor=CLERK)

    assert (len(uow.envelopes), uow.commits, len(uow.fulfillments.fulfillments)) == before


async def test_a_scheduled_fulfillment_is_billed_when_completed(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    order = await _committed_order(uow, catalog)
    scheduled = await fulfillments.record_fulfillment(uow=uow, command=_launch(order, 5), actor=CLERK)
    assert "fulfillment.completed" not in uow.event_types

    done = await fulfillments.complete_fulfillment(
        uow=uow, fulfillment_id=scheduled.id, completed_on=date(2027, 3, 1), actor=CLERK
    )

    assert (done.status, done.completed_on) == (FulfillmentStatus.COMPLETED, date(2027, 3, 1))
    assert uow.event_types.count("fulfillment.completed") == 1


# ----- helpers ------------------------------------------------------------------------------


def _first_page() -> Any:
    from libs.platform.pagination import PageRequest

    return PageRequest(limit=100, after=None)


def _resold_seats_term_end() -> date:
    from libs.platform.clock import UTC_ZONE, business_date
    from provisioning.domain.orders import term_end
    from provisioning.domain.workflows import RESOLD_WFM_SEATS

    assert RESOLD_WFM_SEATS.term_months == 36
    # The test accounts keep the default zone, UTC.
    return term_end(business_date(UTC_ZONE), 36)


# ----- one path for events ------------------------------------------------------------------


async def test_an_account_changed_twice_in_one_update_publishes_one_account_changed(
    uow: FakeProvisioningUnitOfWork,
) -> None:
    parent_id = await _account(uow)
    customer_id = (await customers.get_account(uow=uow, account_id=parent_id)).customer_id
    child_id = await _account(uow, customer_id)
    before = len(uow.envelopes)
    profile = BillingProfileIn.model_validate(
        {
            "currency": "USD",
            "bill_cycle_day": 15,
            "contacts": [{"name": "Ada", "email": "ap@x.example", "role": "billing"}],
        }
    )

    await customers.update_account(
        uow=uow,
        account_id=child_id,
        command=AccountUpdate(parent_account_id=parent_id, bills_to_parent=False, billing_profile=profile),
        actor=CLERK,
    )

    changed = uow.envelopes[before:]
    assert [(e.type, e.key) for e in changed] == [("account.changed", child_id)]
    assert (changed[0].payload["parent_account_id"], changed[0].payload["bill_cycle_day"]) == (parent_id, 15)


async def test_a_change_that_fails_leaves_no_event_behind(
    uow: FakeProvisioningUnitOfWork, catalog: InMemoryCatalog
) -> None:
    sub_id = await _active_subscription(uow, catalog)
    before = list(uow.event_types)

    with pytest.raises(Conflict):
        await subscriptions.resume_subscription(
            uow=uow, subscription_id=sub_id, command=SubscriptionAction(), actor=CLERK
        )
    await subscriptions.suspend_subscription(
        uow=uow,
        subscription_id=sub_id,
        command=SubscriptionAction(effective_date=date(2027, 3, 1)),
        actor=CLERK,
    )

    assert uow.event_types == [*before, "subscription.suspended"]
