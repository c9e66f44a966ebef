"""The read model's handlers on the in-memory fake: each event becomes the billing inputs a bill run
reads — latest account profiles, every subscription change in order, rated usage, fulfillments,
termination fees and order fees — each applied once, children merged into their parents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from invoicing.domain.billing_inputs import (
    AdjustmentDirection,
    BilledCharge,
    BillingInputs,
    OneTimeChargeKind,
    PendingAdjustment,
    TaxTreatment,
)
from invoicing.handlers.billing_inputs import (
    apply_account_event,
    apply_fulfillment_completed,
    apply_order_approved,
    apply_price_published,
    apply_product_changed,
    apply_subscription_event,
    apply_usage_rated,
)
from libs.contracts import provisioning
from libs.contracts.provisioning import SubscriptionEvent
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore
from tests.invoicing.upstream_events import (
    account_opened,
    fulfillment_completed,
    order_approved,
    order_line,
    price_published,
    product_changed,
    subscription_cancelled,
    subscription_changed,
    subscription_event,
    usage_rated,
)

T0 = datetime(2026, 4, 16, 9, tzinfo=UTC)


def _uow(store: InvoicingStore) -> FakeInvoicingUnitOfWork:
    return FakeInvoicingUnitOfWork(store)


async def _subscription(
    store: InvoicingStore, event: SubscriptionEvent, event_id: str, at: datetime, kind: str
) -> bool:
    return await apply_subscription_event(
        uow=_uow(store), event=event, event_id=event_id, occurred_at=at, event_kind=kind
    )


async def _inputs(store: InvoicingStore, *account_ids: str) -> dict[str, BillingInputs]:
    return await _uow(store).billing_inputs.billing_inputs(account_ids or ["acct_1"])


async def test_an_account_keeps_its_latest_profile_and_an_older_event_changes_nothing() -> None:
    store = InvoicingStore()
    opened = account_opened(bill_cycle_day=1)
    changed = account_opened(
        model=provisioning.AccountChanged,
        bill_cycle_day=15,
        tax=provisioning.TaxInfo(treatment="exempt", certificate_number="EX-1", country="US"),
    )
    assert await apply_account_event(uow=_uow(store), profile=opened, occurred_at=T0)
    assert await apply_account_event(uow=_uow(store), profile=changed, occurred_at=T0 + timedelta(days=1))
    # The opening, delivered again late, is older than the change: it changes nothing.
    assert not await apply_account_event(uow=_uow(store), profile=opened, occurred_at=T0)

    account = (await _inputs(store))["acct_1"].account
    assert (account.bill_cycle_day, account.currency, account.billing_email) == (15, "USD", "ap@acme.test")
    assert (account.tax.treatment, account.tax.certificate_number) == (TaxTreatment.EXEMPT, "EX-1")
    assert account.tax.exempt_on(date(2026, 5, 1))


async def test_every_subscription_event_is_a_version_in_effective_order_and_applied_once() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    activated = subscription_event(provisioning.SubscriptionActivated)
    upgraded = subscription_changed(quantity="3", on=date(2026, 6, 10))
    suspended = subscription_event(
        provisioning.SubscriptionSuspended, state="suspended", quantity="3", effective_date=date(2026, 7, 1)
    )
    cancelled = subscription_cancelled(on=date(2026, 9, 20))
    # Delivered out of order, the suspension twice: each event id is one version.
    assert await _subscription(store, upgraded, "e2", T0 + timedelta(days=55), "subscription.changed")
    assert await _subscription(store, activated, "e1", T0, "subscription.activated")
    assert await _subscription(store, suspended, "e3", T0 + timedelta(days=76), "subscription.suspended")
    assert not await _subscription(store, suspended, "e3", T0 + timedelta(days=76), "subscription.suspended")
    assert await _subscription(store, cancelled, "e4", T0 + timedelta(days=157), "subscription.cancelled")

    (subscription,) = (await _inputs(store))["acct_1"].subscriptions
    assert (subscription.charge_type, subscription.billing_period, subscription.billing_timing) == (
        ChargeType.RECURRING,
        BillingFrequency.MONTHLY,
        BillingTiming.IN_ADVANCE,
    )
    assert [(v.effective_date, v.state, v.quantity, v.sequence) for v in subscription.versions] == [
        (date(2026, 4, 16), "active", Decimal(1), 0),
        (date(2026, 6, 10), "active", Decimal(3), 1),
        (date(2026, 7, 1), "suspended", Decimal(3), 2),
        (date(2026, 9, 20), "cancelled", Decimal(1), 3),
    ]
    assert subscription.versions[0].unit_price == Decimal("300.00")


async def test_two_changes_on_one_day_are_ordered_by_when_they_occurred() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    on = date(2026, 6, 10)
    await _subscription(
        store,
        subscription_changed(quantity="5", on=on),
        "late",
        T0 + timedelta(hours=2),
        "subscription.changed",
    )
    await _subscription(
        store,
        subscription_changed(quantity="4", on=on),
        "early",
        T0 + timedelta(hours=1),
        "subscription.changed",
    )

    (subscription,) = (await _inputs(store))["acct_1"].subscriptions
    # The later event is the later version of the day: 5 units stand.
    assert [(v.quantity, v.sequence) for v in subscription.versions] == [(Decimal(4), 0), (Decimal(5), 1)]


async def test_a_cancellation_with_a_fee_adds_one_termination_fee() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    cancelled = subscription_cancelled(on=date(2026, 9, 20), fee="1250.00")
    await _subscription(store, cancelled, "e9", T0, "subscription.cancelled")
    # A second cancellation event of the same subscription (a replay under a new id) bills no second fee.
    await _subscription(store, cancelled, "e10", T0, "subscription.cancelled")

    (fee,) = (await _inputs(store))["acct_1"].one_time_charges
    assert (fee.kind, fee.amount, fee.quantity, fee.charge_date) == (
        OneTimeChargeKind.TERMINATION_FEE,
        Decimal("1250.00"),
        Decimal(1),
        date(2026, 9, 20),
    )
    assert (fee.subscription_id, fee.price_id, fee.price_version, fee.currency) == (
        "sub_1",
        "price_exit",
        1,
        "USD",
    )


async def test_a_cancellation_without_a_fee_adds_no_one_time_charge() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    await _subscription(
        store, subscription_cancelled(on=date(2026, 9, 20), fee=None), "e1", T0, "subscription.cancelled"
    )
    assert (await _inputs(store))["acct_1"].one_time_charges == ()


async def test_rated_usage_is_kept_once_and_only_a_later_rating_replaces_it() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    rated = usage_rated()
    assert await apply_usage_rated(uow=_uow(store), events=[rated])
    assert not await apply_usage_rated(uow=_uow(store), events=[rated])  # redelivered
    (usage,) = (await _inputs(store))["acct_1"].rated_usage
    assert (usage.quantity, usage.billable_quantity, usage.amount) == (
        Decimal(12345),
        Decimal(11345),
        Decimal("107.59"),
    )

    earlier = rated.model_copy(
        update={"amount": Decimal("1.00"), "rated_at": rated.rated_at - timedelta(days=1)}
    )
    assert not await apply_usage_rated(uow=_uow(store), events=[earlier])
    later = rated.model_copy(
        update={"amount": Decimal("92.59"), "rated_at": rated.rated_at + timedelta(days=1)}
    )
    assert await apply_usage_rated(uow=_uow(store), events=[later])
    assert [u.amount for u in (await _inputs(store))["acct_1"].rated_usage] == [Decimal("92.59")]


async def test_a_completed_fulfillment_bills_its_billable_lines_once() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    workshop = fulfillment_completed()
    assert await apply_fulfillment_completed(uow=_uow(store), event=workshop)
    assert not await apply_fulfillment_completed(uow=_uow(store), event=workshop)
    # A mass launch of a committed, prepaid license: consumed, nothing to invoice (EXAMPLES §2).
    launch = fulfillment_completed(
        "ful_launch",
        lines=[
            provisioning.FulfilledLine(
                order_line_id="ol_bundle",
                product_id="prod_bundle",
                license_type="committed",
                consumed_quantity="100",
                billable_quantity="0",
                unit_price="900.00",
                discount_percent="0",
            )
        ],
    )
    await apply_fulfillment_completed(uow=_uow(store), event=launch)

    lines = (await _inputs(store))["acct_1"].fulfillments
    assert [(f.order_line_id, f.billable_quantity, f.unit_price) for f in lines] == [
        ("ol_platform", Decimal(15), Decimal("150.00")),
        ("ol_workshop", Decimal(1), Decimal("5000.00")),
        ("ol_ws_license", Decimal(12), Decimal("400.00")),
    ]
    # 2,250.00 + 4,800.00 + 5,000.00 = 12,050.00 (EXAMPLES §3).
    assert sum(f.billable_quantity * f.unit_price for f in lines) == Decimal("12050.00")
    assert {(f.completed_on, f.associated_project_id) for f in lines} == {(date(2026, 6, 12), "ws_1")}


async def test_a_one_time_order_line_is_an_order_fee_once_its_price_is_known() -> None:
    store = InvoicingStore()
    await apply_account_event(
        uow=_uow(store), profile=account_opened(time_zone="America/New_York"), occurred_at=T0
    )
    approved = order_approved(
        lines=[
            order_line("ol_onboarding"),
            # A one-time workshop billed on fulfillment, and a recurring plan: not order fees.
            order_line(
                "ol_workshop",
                product_id="prod_workshop",
                price_id="price_workshop",
                license_type="none",
                unit_price="5000.00",
                discount_percent="0",
            ),
            order_line("ol_plan", product_id="prod_plan", price_id="price_plan", unit_price="300.00"),
        ]
    )
    # Approved just after midnight UTC: still 2026-04-15 in New York.
    approved_at = datetime(2026, 4, 16, 2, tzinfo=UTC)
    assert await apply_order_approved(uow=_uow(store), event=approved, occurred_at=approved_at) == 3
    assert await apply_order_approved(uow=_uow(store), event=approved, occurred_at=approved_at) == 0
    # The order came before the catalog's price: nothing to bill yet, nothing lost.
    assert (await _inputs(store))["acct_1"].one_time_charges == ()

    await apply_price_published(uow=_uow(store), event=price_published())
    await apply_price_published(
        uow=_uow(store), event=price_published("price_workshop", product_id="prod_workshop")
    )
    await apply_price_published(
        uow=_uow(store),
        event=price_published(
            "price_plan",
            product_id="prod_plan",
            charge_type="recurring",
            billing_period="monthly",
            model="per_unit",
            amount=None,
            unit_price="300.00",
        ),
    )
    await apply_product_changed(
        uow=_uow(store), event=product_changed("prod_onboarding", name="Onboarding"), occurred_at=T0
    )

    (fee,) = (await _inputs(store))["acct_1"].one_time_charges
    # 1 x 2,500.00 less 10% = 2,250.00.
    assert (fee.kind, fee.charge_id, fee.amount, fee.unit_price, fee.quantity) == (
        OneTimeChargeKind.ORDER_FEE,
        "order_fee:ol_onboarding",
        Decimal("2250.00"),
        Decimal("2500.00"),
        Decimal(1),
    )
    assert (fee.charge_date, fee.description, fee.source_id, fee.price_id) == (
        date(2026, 4, 15),
        "Onboarding",
        "ord_1",
        "price_onboarding",
    )


async def test_a_child_billing_to_its_parent_is_merged_into_the_parents_inputs() -> None:
    store = InvoicingStore()
    for account in (
        account_opened("acct_parent"),
        account_opened("acct_child", parent_account_id="acct_parent", bills_to_parent=True),
        account_opened("acct_own", parent_account_id="acct_parent", bills_to_parent=False),
    ):
        await apply_account_event(uow=_uow(store), profile=account, occurred_at=T0)
    for n, account_id in enumerate(("acct_parent", "acct_child", "acct_own")):
        event = subscription_event(provisioning.SubscriptionActivated, f"sub_{n}", account_id)
        await _subscription(store, event, f"e{n}", T0, "subscription.activated")
    await apply_usage_rated(uow=_uow(store), events=[usage_rated(account_id="acct_child")])

    readable = _uow(store).billing_inputs
    assert [a.account_id for a in await readable.accounts_page(None, 10)] == ["acct_own", "acct_parent"]
    assert [a.account_id for a in await readable.accounts_page("acct_own", 10)] == ["acct_parent"]
    inputs = await readable.billing_inputs(["acct_parent", "acct_child", "acct_own"])
    assert set(inputs) == {"acct_parent", "acct_own"}
    parent = inputs["acct_parent"]
    assert [(s.subscription_id, s.account_id) for s in parent.subscriptions] == [
        ("sub_0", "acct_parent"),
        ("sub_1", "acct_child"),
    ]
    assert [u.account_id for u in parent.rated_usage] == ["acct_child"]
    assert [s.subscription_id for s in inputs["acct_own"].subscriptions] == ["sub_2"]


async def test_terms_missing_from_a_subscription_event_come_from_its_pinned_price() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    event = subscription_event(
        provisioning.SubscriptionActivated, charge_type=None, billing_period=None, billing_timing=None
    )
    await _subscription(store, event, "e1", T0, "subscription.activated")
    await apply_price_published(
        uow=_uow(store),
        event=price_published(
            "price_plan",
            product_id="prod_plan",
            charge_type="recurring",
            billing_period="quarterly",
            timing="in_arrears",
            model="per_unit",
            amount=None,
            unit_price="300.00",
        ),
    )
    await apply_product_changed(uow=_uow(store), event=product_changed(), occurred_at=T0)

    (subscription,) = (await _inputs(store))["acct_1"].subscriptions
    assert (subscription.billing_period, subscription.billing_timing, subscription.product_name) == (
        BillingFrequency.QUARTERLY,
        BillingTiming.IN_ARREARS,
        "Workforce plan",
    )


async def test_products_keep_their_latest_tax_code() -> None:
    store = InvoicingStore()
    await apply_product_changed(
        uow=_uow(store), event=product_changed(tax_code="SW052000"), occurred_at=T0 + timedelta(days=1)
    )
    assert not await apply_product_changed(uow=_uow(store), event=product_changed(), occurred_at=T0)
    codes = await _uow(store).billing_inputs.product_tax_codes(["prod_plan", "prod_unknown"])
    assert codes == {"prod_plan": "SW052000"}


async def test_billed_charges_and_adjustments_are_passed_through_by_invoiced_account() -> None:
    store = InvoicingStore()
    await apply_account_event(uow=_uow(store), profile=account_opened(), occurred_at=T0)
    billed = BilledCharge("sub_1:2026-05-01", Decimal("300.00"), "inv_1")
    credit = PendingAdjustment(
        "adj_1", "acct_1", "USD", AdjustmentDirection.CREDIT, Decimal("50.00"), "Goodwill", date(2026, 5, 2)
    )
    inputs = await _uow(store).billing_inputs.billing_inputs(
        ["acct_1"], billed={"acct_1": [billed]}, adjustments={"acct_1": [credit]}
    )
    assert (inputs["acct_1"].billed, inputs["acct_1"].adjustments) == ((billed,), (credit,))
