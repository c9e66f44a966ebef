"""Domain events → the contract payloads other services read (`libs.contracts.provisioning`).

Aggregates record what happened in their own words; this module says it in the wire's words,
adding what consumers need that the aggregate does not hold (e.g. a subscription's currency
and billing period, kept beside it by the repository). Only these payloads leave the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from provisioning.domain import fulfillments as ful
from provisioning.domain import named_users as nu
from provisioning.domain import orders as ords
from provisioning.domain import subscriptions as subs
from provisioning.domain import workflows as wfs
from provisioning.domain.accounts import Account, Customer
from provisioning.repository import StoredSubscription
from provisioning.schemas import decimal_out, percent_out
from provisioning.views import termination_fee_fields


def customer_registered(customer: Customer) -> wire.CustomerRegisteredEvent:
    """`customer.registered`."""
    return wire.CustomerRegisteredEvent(
        customer_id=customer.id, name=customer.name, partner_id=customer.partner_id
    )


def account_profile(account: Account, *, opened: bool) -> wire.AccountProfile:
    """`account.opened` or `account.changed` with the account's full billing profile."""
    profile = account.billing_profile
    tax, address = profile.tax_status, profile.tax_address
    model = wire.AccountOpened if opened else wire.AccountChanged
    return model(
        account_id=account.id,
        customer_id=account.customer_id,
        name=account.name,
        parent_account_id=account.parent_account_id,
        bills_to_parent=account.bills_to_parent,
        currency=profile.currency,
        bill_cycle_day=profile.bill_cycle_day,
        time_zone=profile.time_zone,
        payment_terms_days=profile.payment_terms_days,
        delivery=profile.delivery.value,
        tax=wire.TaxInfo(
            treatment=tax.treatment.value,
            certificate_number=tax.certificate_number,
            certificate_expiry=tax.certificate_expiry,
            country=address.country if address else None,
            region=address.region if address else None,
            postal_code=address.postal_code if address else None,
        ),
        contacts=[
            wire.ContactInfo(name=c.name, email=c.email, role=c.role.value, phone=c.phone)
            for c in profile.contacts
        ],
    )


def _line_info(line: ords.OrderLine, kind: ords.OrderKind) -> wire.OrderLineInfo:
    new = kind is ords.OrderKind.NEW
    return wire.OrderLineInfo(
        order_line_id=line.id,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        quantity=decimal_out(line.quantity),
        unit_price=decimal_out(line.unit_list_price),
        discount_percent=percent_out(line.effective_discount_percent),
        license_type=line.license_type.value,
        term_months=line.term_months,
        subscription_id=line.subscription_id,
        effective_date=line.effective_date,
        renewal=line.renewal_policy.kind.value if new else None,
        renewal_months=line.renewal_policy.months if new else None,
        commitment_quantity=decimal_out(line.committed_quantity) if new else None,
        termination_fee_price_id=line.termination_fee_price_id,
    )


def order_payloads(order: ords.SalesOrder) -> Iterator[EventPayload]:
    """The wire events of an order's recorded events."""
    for event in order.events:
        if isinstance(event, ords.OrderSubmitted):
            yield wire.OrderSubmitted(
                order_id=event.order_id,
                account_id=event.account_id,
                customer_id=event.customer_id,
                kind=event.kind.value,
                currency=event.currency,
                approval_required=event.approval_required,
            )
        elif isinstance(event, ords.OrderApproved):
            yield wire.OrderApproved(
                order_id=event.order_id,
                account_id=event.account_id,
                customer_id=event.customer_id,
                kind=event.kind.value,
                currency=event.currency,
                automatic=event.automatic,
                lines=[_line_info(line, event.kind) for line in event.lines],
            )
        elif isinstance(event, ords.OrderCancelled):
            yield wire.OrderCancelled(
                order_id=event.order_id, account_id=event.account_id, reason=event.reason
            )
        elif isinstance(event, ords.OrderFulfilled):
            yield wire.OrderFulfilled(order_id=event.order_id, account_id=event.account_id)


def workflow_payloads(workflow: wfs.Workflow) -> Iterator[EventPayload]:
    """The wire events of a workflow's recorded events (task steps are audited, not published)."""
    for event in workflow.events:
        if isinstance(event, wfs.WorkflowStarted):
            yield wire.WorkflowStarted(
                workflow_id=event.workflow_id,
                template_name=event.template_name,
                order_id=event.order_id,
                account_id=event.account_id,
                subscription_id=event.subscription_id,
            )
        elif isinstance(event, wfs.WorkflowCompleted):
            yield wire.WorkflowCompleted(
                workflow_id=event.workflow_id,
                template_name=event.template_name,
                order_id=event.order_id,
                account_id=event.account_id,
                subscription_id=event.subscription_id,
                completed_on=event.completed_on,
            )


_SUBSCRIPTION_EVENTS: dict[type[subs.SubscriptionEvent], type[wire.SubscriptionEvent]] = {
    subs.SubscriptionActivated: wire.SubscriptionActivated,
    subs.SubscriptionChanged: wire.SubscriptionChanged,
    subs.SubscriptionSuspended: wire.SubscriptionSuspended,
    subs.SubscriptionResumed: wire.SubscriptionResumed,
    subs.SubscriptionCancelled: wire.SubscriptionCancelled,
    subs.SubscriptionExpired: wire.SubscriptionExpired,
    subs.SubscriptionRenewed: wire.SubscriptionRenewed,
}


def subscription_payloads(stored: StoredSubscription) -> Iterator[EventPayload]:
    """The wire events of a subscription's recorded events, with its billing facts."""
    sub = stored.subscription
    for event in sub.events:
        if not isinstance(event, subs.SubscriptionEvent):
            continue
        model = _SUBSCRIPTION_EVENTS.get(type(event))
        if model is None:
            continue
        extra: dict[str, object] = {}
        if isinstance(event, subs.SubscriptionChanged):
            extra = {
                "change": event.change.value,
                "previous_quantity": decimal_out(event.previous_quantity),
                "previous_term_end": event.previous_term_end,
            }
        elif isinstance(event, subs.SubscriptionSuspended):
            extra = {"reason": event.reason}
        elif isinstance(event, subs.SubscriptionRenewed):
            extra = {"previous_term_end": event.previous_term_end}
        elif isinstance(event, subs.SubscriptionCancelled):
            fee = event.termination_fee
            extra = {
                "reason": event.reason,
                "ended_before_term": event.ended_before_term,
                "termination_fee": wire.TerminationFee(**termination_fee_fields(fee)) if fee else None,
            }
        yield model(
            subscription_id=event.subscription_id,
            account_id=event.account_id,
            order_id=sub.order_id,
            product_id=event.product_id,
            price_id=event.price_id,
            price_version=event.price_version,
            currency=stored.currency,
            unit_price=decimal_out(stored.unit_price),
            discount_percent=percent_out(stored.discount_percent),
            charge_type=stored.charge_type,
            billing_period=stored.billing_period,
            billing_timing=stored.billing_timing,
            quantity=decimal_out(event.quantity),
            commitment_quantity=decimal_out(event.commitment_quantity),
            license_type=event.license_type.value,
            term_start=event.term_start,
            term_end=event.term_end,
            renewal=sub.renewal.kind.value,
            renewal_months=sub.renewal.months,
            state=sub.state.value,
            effective_date=event.effective_date,
            **extra,
        )


def fulfillment_payloads(fulfillment: ful.Fulfillment) -> Iterator[EventPayload]:
    """`fulfillment.completed`, once, with every line's consumed and billable quantity."""
    for event in fulfillment.events:
        if isinstance(event, ful.FulfillmentCompleted):
            currency = event.lines[0].currency if event.lines else "USD"
            yield wire.FulfillmentCompleted(
                fulfillment_id=event.fulfillment_id,
                order_id=event.order_id,
                account_id=event.account_id,
                currency=currency,
                associated_project_id=event.associated_project_id,
                completed_on=event.completed_on,
                lines=[
                    wire.FulfilledLine(
                        order_line_id=line.order_line_id,
                        product_id=line.product_id,
                        license_type=line.license_type.value,
                        consumed_quantity=decimal_out(line.consumed_quantity),
                        billable_quantity=decimal_out(line.billable_quantity),
                        unit_price=decimal_out(line.unit_list_price),
                        discount_percent=percent_out(line.discount_percent or Decimal(0)),
                    )
                    for line in event.lines
                ],
            )


def pool_payloads(pool: nu.NamedUserPool) -> Iterator[EventPayload]:
    """The wire events of a named-user pool's recorded events."""
    for event in pool.events:
        if isinstance(event, nu.NamedUserPoolCreated):
            yield wire.NamedUserPoolCreated(
                pool_id=pool.id,
                account_id=pool.account_id,
                subscription_id=pool.subscription_id,
                size=pool.size,
                programs_per_user=pool.programs_per_user,
                contract_programs=sorted(pool.contract_programs),
                contract_start=pool.contract_start,
                transfer_percent=percent_out(pool.transfer_percent),
                transfers_per_year=pool.transfers_per_year,
            )
        elif isinstance(event, nu.NamedUserAssigned):
            yield wire.NamedUserAssigned(
                pool_id=event.pool_id,
                account_id=pool.account_id,
                user_id=event.user_id,
                programs=sorted(event.programs),
                seats_used=event.seats_used,
                seats_available=pool.size - event.seats_used,
            )
        elif isinstance(event, nu.NamedUserTransferred):
            yield wire.NamedUserTransferred(
                pool_id=event.pool_id,
                account_id=pool.account_id,
                from_user=event.from_user,
                to_user=event.to_user,
                programs=sorted(event.programs),
                on_date=event.on_date,
                contract_year=event.contract_year,
                transfers_remaining=event.transfers_remaining,
            )
