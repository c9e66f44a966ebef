"""Public views: what the API shows of the aggregates (never the tables themselves)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from libs.platform.db import utcnow
from provisioning import schemas as s
from provisioning.domain.accounts import Account, BillingProfile
from provisioning.domain.deals import DealRegistration
from provisioning.domain.fulfillments import CommittedLicenseBalance, Fulfillment
from provisioning.domain.named_users import NamedUserPool
from provisioning.domain.orders import OrderKind, OrderLine
from provisioning.domain.subscriptions import ChangeKind, SubscriptionState, TerminationFee
from provisioning.domain.workflows import Workflow, WorkflowTask
from provisioning.models import (
    AccountRow,
    CustomerRow,
    DealRegistrationRow,
    PartnerRow,
    SubscriptionChangeRow,
)
from provisioning.repository import (
    LinePricing,
    StoredFulfillment,
    StoredOrder,
    StoredPool,
    StoredSubscription,
    account_from_row,
    deal_from_row,
)
from provisioning.schemas import decimal_out, money_out, percent_out

ZERO = Decimal(0)


def customer(row: CustomerRow) -> s.CustomerPublic:
    """A customer as shown."""
    return s.CustomerPublic(id=row.id, name=row.name, partner_id=row.partner_id, created_at=row.created_at)


def billing_profile(profile: BillingProfile) -> s.BillingProfilePublic:
    """A billing profile as shown."""
    tax, address = profile.tax_status, profile.tax_address
    return s.BillingProfilePublic(
        currency=profile.currency,
        time_zone=profile.time_zone,
        bill_cycle_day=profile.bill_cycle_day,
        payment_terms_days=profile.payment_terms_days,
        delivery=profile.delivery,
        tax_status=s.TaxStatusPublic(
            treatment=tax.treatment,
            certificate_number=tax.certificate_number,
            certificate_expiry=tax.certificate_expiry,
        ),
        tax_address=(
            s.TaxAddressPublic(
                country=address.country, region=address.region, postal_code=address.postal_code
            )
            if address
            else None
        ),
        contacts=[
            s.ContactPublic(name=c.name, email=c.email, role=c.role, phone=c.phone) for c in profile.contacts
        ],
    )


def account(row: AccountRow, domain: Account | None = None) -> s.AccountPublic:
    """An account as shown."""
    acct = domain or account_from_row(row)
    return s.AccountPublic(
        id=acct.id,
        customer_id=acct.customer_id,
        name=acct.name,
        parent_account_id=acct.parent_account_id,
        bills_to_parent=acct.bills_to_parent,
        billing_profile=billing_profile(acct.billing_profile),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def partner(row: PartnerRow) -> s.PartnerPublic:
    """A partner as shown."""
    return s.PartnerPublic(
        id=row.id,
        name=row.name,
        contact_email=row.contact_email,
        active=row.active,
        created_at=row.created_at,
    )


def _licensing(deal: DealRegistration) -> s.LicensingPublic:
    lic = deal.licensing
    return s.LicensingPublic(
        currency=lic.currency, license_type=lic.license_type, start_date=lic.start_date, end_date=lic.end_date
    )


def _agreement_contact(deal: DealRegistration) -> s.AgreementContactPublic | None:
    contact = deal.agreement_contact
    return s.AgreementContactPublic(name=contact.name, email=contact.email) if contact else None


def deal(row: DealRegistrationRow) -> s.DealRegistrationPublic:
    """A registration with its checklist of missing fields."""
    reg = deal_from_row(row)
    return s.DealRegistrationPublic(
        id=reg.id,
        partner_id=reg.partner_id,
        status=reg.status,
        opportunity_name=reg.opportunity_name,
        opportunity_details=reg.opportunity_details,
        customer_company_name=reg.customer_company_name,
        agreement_contact=_agreement_contact(reg),
        licensing=_licensing(reg),
        discounts_requested=[
            s.RequestedDiscountPublic(description=d.description, percent=percent_out(d.percent))
            for d in reg.discounts_requested
        ],
        project_description=reg.project_description,
        customer_id=reg.customer_id,
        order_id=reg.order_id,
        missing=[]
        if reg.customer_id
        else [s.FieldProblemPublic(field=f, message=m) for f, m in reg.problems()],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _line_terms(kind: OrderKind, line: OrderLine) -> dict[str, Any]:
    if kind is OrderKind.AMENDMENT:
        return {"renewal": None, "commitment_quantity": None, "termination_fee_price_id": None}
    policy = line.renewal_policy
    return {
        "renewal": s.RenewalPublic(policy=policy.kind, months=policy.months),
        "commitment_quantity": decimal_out(line.committed_quantity),
        "termination_fee_price_id": line.termination_fee_price_id,
    }


def order(stored: StoredOrder, *, currency: str, deal_row: DealRegistrationRow | None) -> s.OrderPublic:
    """An order as shown, with amounts rounded to the currency."""
    o = stored.order
    lines = []
    for line in o.lines:
        priced = stored.pricing.get(line.id, LinePricing())
        lines.append(
            s.OrderLinePublic(
                id=line.id,
                product_id=line.product_id,
                product_sku=priced.product_sku,
                product_name=priced.product_name,
                price_id=line.price_id,
                price_version=line.price_version,
                charge_type=priced.charge_type,
                billing_period=priced.billing_period,
                license_type=line.license_type,
                quantity=decimal_out(line.quantity),
                unit_price=decimal_out(line.unit_list_price),
                currency=line.currency,
                list_amount=money_out(priced.list_amount, line.currency),
                discounts=[
                    s.LineDiscountPublic(
                        discount_id=d.discount_id,
                        name=d.name,
                        amount=money_out(d.amount, line.currency),
                        approval_threshold_percent=(
                            None
                            if d.approval_threshold_percent is None
                            else percent_out(d.approval_threshold_percent)
                        ),
                    )
                    for d in priced.discounts
                ],
                discount_amount=money_out(priced.discount_amount, line.currency),
                net_amount=money_out(priced.net_amount, line.currency),
                effective_percent_off=percent_out(priced.effective_percent_off),
                needs_approval=line.needs_approval,
                term_months=line.term_months,
                effective_date=line.effective_date,
                subscription_id=line.subscription_id,
                **_line_terms(o.kind, line),
            )
        )
    summary = None
    if deal_row is not None:
        reg = deal_from_row(deal_row)
        summary = s.DealSummaryPublic(
            deal_registration_id=reg.id,
            partner_id=reg.partner_id,
            opportunity_name=reg.opportunity_name,
            opportunity_details=reg.opportunity_details,
            project_description=reg.project_description,
            agreement_contact=_agreement_contact(reg),
            licensing=_licensing(reg),
            requested_discounts=o.requested_discounts_note,
        )
    return s.OrderPublic(
        id=o.id,
        customer_id=o.customer_id,
        account_id=o.account_id,
        kind=o.kind,
        status=o.status,
        currency=currency,
        approval_required=o.approval_required,
        approved_by=o.approved_by,
        lines=lines,
        list_total=sum((ln.list_amount for ln in lines), ZERO),
        discount_total=sum((ln.discount_amount for ln in lines), ZERO),
        net_total=sum((ln.net_amount for ln in lines), ZERO),
        deal=summary,
        created_at=stored.created_at or utcnow(),
        updated_at=stored.updated_at or utcnow(),
    )


def commitments(order_id: str, balances: list[CommittedLicenseBalance]) -> s.CommitmentsPublic:
    """Committed-license balances as shown."""
    return s.CommitmentsPublic(
        order_id=order_id,
        lines=[
            s.CommitmentPublic(
                order_line_id=b.order_line_id,
                product_id=b.product_id,
                committed=decimal_out(b.committed),
                launched=decimal_out(b.launched),
                remaining=decimal_out(b.remaining),
            )
            for b in balances
        ],
    )


def task(workflow_id: str, t: WorkflowTask, today: date) -> s.TaskPublic:
    """A task as shown."""
    return s.TaskPublic(
        id=t.id,
        workflow_id=workflow_id,
        key=t.key,
        title=t.title,
        owner_team=t.owner_team,
        state=t.state,
        assignee=t.assignee,
        due_date=t.due_date,
        requires=list(t.requires),
        completed_on=t.completed_on,
        blocked_reason=t.blocked_reason,
        overdue=t.is_overdue(today),
        notes=[s.TaskNotePublic(at=n.at, by=n.by, text=n.text) for n in t.notes],
    )


def workflow(wf: Workflow, today: date) -> s.WorkflowPublic:
    """A workflow and its tasks as shown."""
    return s.WorkflowPublic(
        id=wf.id,
        template_name=wf.template_name,
        order_id=wf.order_id,
        account_id=wf.account_id,
        subscription_id=wf.subscription_id,
        status=wf.status,
        started_on=wf.started_on,
        completed_on=wf.completed_on,
        tasks=[task(wf.id, t, today) for t in wf.tasks],
    )


def termination_fee_fields(fee: TerminationFee) -> dict[str, Any]:
    """A charged termination fee as shown and as published: the amount in minor units."""
    return {
        "price_id": fee.price_id,
        "price_version": fee.price_version,
        "amount": money_out(fee.amount, fee.currency),
        "currency": fee.currency,
    }


def subscription(stored: StoredSubscription) -> s.SubscriptionPublic:
    """A subscription as shown."""
    sub = stored.subscription
    return s.SubscriptionPublic(
        id=sub.id,
        account_id=sub.account_id,
        order_id=sub.order_id,
        product_id=sub.product_id,
        price_id=sub.price_id,
        price_version=sub.price_version,
        currency=stored.currency,
        unit_price=decimal_out(stored.unit_price),
        discount_percent=percent_out(stored.discount_percent),
        charge_type=stored.charge_type,
        billing_period=stored.billing_period,
        quantity=decimal_out(sub.quantity),
        commitment_quantity=decimal_out(sub.commitment_quantity),
        license_type=sub.license_type,
        term_start=sub.term_start,
        term_end=sub.term_end,
        renewal=sub.renewal.kind,
        renewal_months=sub.renewal.months,
        state=sub.state,
        termination_fee_price_id=sub.termination_fee_price_id,
        termination_fee=s.TerminationFeePublic(**termination_fee_fields(sub.termination_fee))
        if sub.termination_fee
        else None,
        created_at=stored.created_at or utcnow(),
        updated_at=stored.updated_at or utcnow(),
    )


def _snapshot(row: SubscriptionChangeRow, prefix: str) -> s.SnapshotPublic:
    return s.SnapshotPublic(
        state=SubscriptionState(getattr(row, f"{prefix}_state")),
        quantity=decimal_out(getattr(row, f"{prefix}_quantity")),
        term_start=getattr(row, f"{prefix}_term_start"),
        term_end=getattr(row, f"{prefix}_term_end"),
        price_id=row.price_id,
        price_version=row.price_version,
    )


def history_entry(row: SubscriptionChangeRow) -> s.SubscriptionChangePublic:
    """One entry of a subscription's history as shown."""
    return s.SubscriptionChangePublic(
        sequence=row.sequence,
        kind=ChangeKind(row.kind),
        effective_date=row.effective_date,
        by=row.by,
        reason=row.reason,
        before=_snapshot(row, "before"),
        after=_snapshot(row, "after"),
        recorded_at=row.recorded_at,
    )


def fulfillment(stored: StoredFulfillment) -> s.FulfillmentPublic:
    """A fulfillment with what it bills, rounded per line."""
    f: Fulfillment = stored.fulfillment
    currency = f.lines[0].currency if f.lines else "USD"
    lines = []
    for line in f.lines:
        gross = line.billable_quantity * line.unit_list_price
        net = gross - gross * line.discount_percent / Decimal(100)
        lines.append(
            s.FulfillmentLinePublic(
                order_line_id=line.order_line_id,
                product_id=line.product_id,
                license_type=line.license_type,
                quantity=decimal_out(line.quantity),
                billable_quantity=decimal_out(line.billable_quantity),
                unit_price=decimal_out(line.unit_list_price),
                discount_percent=percent_out(line.discount_percent),
                billable_amount=money_out(net, currency),
            )
        )
    return s.FulfillmentPublic(
        id=f.id,
        order_id=f.order_id,
        account_id=f.account_id,
        associated_project_id=f.associated_project_id,
        status=f.status,
        completed_on=f.completed_on,
        currency=currency,
        lines=lines,
        billable_total=sum((ln.billable_amount for ln in lines), ZERO),
        created_at=stored.created_at or utcnow(),
        updated_at=stored.updated_at or utcnow(),
    )


def pool(stored: StoredPool) -> s.PoolPublic:
    """A named-user pool as shown."""
    p: NamedUserPool = stored.pool
    return s.PoolPublic(
        id=p.id,
        account_id=p.account_id,
        subscription_id=p.subscription_id,
        size=p.size,
        programs_per_user=p.programs_per_user,
        contract_programs=sorted(p.contract_programs),
        contract_start=p.contract_start,
        transfer_percent=percent_out(p.transfer_percent),
        seats_used=p.seats_used,
        seats_available=p.seats_available,
        transfers_per_year=p.transfers_per_year,
        created_at=stored.created_at or utcnow(),
    )
