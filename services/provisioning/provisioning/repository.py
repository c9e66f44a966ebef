"""Storage of the provisioning aggregates: maps domain objects to rows and back.

Loads for a change take a row lock on PostgreSQL (`for_update`); SQLite serialises writers
with BEGIN IMMEDIATE. Child collections (lines, tasks, assignments) are rewritten on save;
histories (subscription changes, seat transfers) are append-only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import delete, func
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.errors import NotFound
from libs.platform.ids import new_id
from provisioning.domain.accounts import (
    Account,
    AccountHierarchy,
    BillingProfile,
    Contact,
    ContactRole,
    Customer,
    DeliveryPreference,
    TaxAddress,
    TaxStatus,
    TaxTreatment,
)
from provisioning.domain.deals import (
    AgreementContact,
    DealLicenseType,
    DealRegistration,
    DealStatus,
    LicensingDetails,
    Partner,
    RequestedDiscount,
)
from provisioning.domain.fulfillments import Fulfillment, FulfillmentLine, FulfillmentStatus
from provisioning.domain.named_users import NamedUserPool, SeatTransfer
from provisioning.domain.orders import LineDiscount, OrderKind, OrderLine, OrderStatus, SalesOrder
from provisioning.domain.subscriptions import (
    ChangeKind,
    LicenseType,
    RenewalKind,
    RenewalPolicy,
    Subscription,
    SubscriptionChange,
    SubscriptionSnapshot,
    SubscriptionState,
    TerminationFee,
)
from provisioning.domain.workflows import TaskNote, TaskState, Workflow, WorkflowStatus, WorkflowTask
from provisioning.models import (
    AccountRow,
    CustomerRow,
    DealRegistrationRow,
    FulfillmentLineRow,
    FulfillmentRow,
    NamedUserAssignmentRow,
    NamedUserPoolRow,
    NamedUserTransferRow,
    OrderLineRow,
    PartnerRow,
    SalesOrderRow,
    SubscriptionChangeRow,
    SubscriptionRow,
    WorkflowRow,
    WorkflowTaskRow,
)

R = TypeVar("R", bound=SQLModel)


async def _row(session: AsyncSession, model: type[R], entity: str, key: str, *, for_update: bool) -> R:
    stmt = select(model).where(model.id == key)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.exec(stmt)).first()
    if row is None:
        raise NotFound(entity, key)
    return row


def _put(session: AsyncSession, model: type[R], row: R | None, values: dict[str, Any]) -> R:
    """`row` with `values` set, or a new row of `model` when there is none."""
    if row is None:
        row = model(**values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    return row


async def _children(
    session: AsyncSession, model: type[R], parent_column: Any, parent_id: str, order: Any = None
) -> Sequence[R]:
    """The rows of `model` belonging to one parent, in `order` when given."""
    stmt = select(model).where(col(parent_column) == parent_id)
    if order is not None:
        stmt = stmt.order_by(col(order))
    return (await session.exec(stmt)).all()


async def _upsert(session: AsyncSession, model: type[R], key: Any, values: dict[str, Any]) -> R:
    return _put(session, model, await session.get(model, key), values)


# ----- partners, deals ----------------------------------------------------------------------


def partner_from_row(row: PartnerRow) -> Partner:
    """Domain partner of a row."""
    return Partner(id=row.id, name=row.name, contact_email=row.contact_email, active=row.active)


async def get_partner_row(session: AsyncSession, partner_id: str) -> PartnerRow:
    """The partner's row, or NotFound."""
    return await _row(session, PartnerRow, "partner", partner_id, for_update=False)


async def get_partner(session: AsyncSession, partner_id: str) -> Partner:
    """The partner, or NotFound."""
    return partner_from_row(await _row(session, PartnerRow, "partner", partner_id, for_update=False))


async def add_partner(session: AsyncSession, partner: Partner) -> PartnerRow:
    """Store a new partner."""
    row = PartnerRow(
        id=partner.id,
        name=partner.name,
        contact_email=partner.contact_email,
        active=partner.active,
        created_at=utcnow(),
    )
    session.add(row)
    return row


def deal_from_row(row: DealRegistrationRow) -> DealRegistration:
    """Domain registration of a row."""
    contact = (
        AgreementContact(row.agreement_contact_name or "", row.agreement_contact_email or "")
        if row.agreement_contact_name is not None or row.agreement_contact_email is not None
        else None
    )
    return DealRegistration(
        id=row.id,
        partner_id=row.partner_id,
        opportunity_name=row.opportunity_name,
        opportunity_details=row.opportunity_details,
        customer_company_name=row.customer_company_name,
        agreement_contact=contact,
        licensing=LicensingDetails(
            currency=row.currency,
            license_type=DealLicenseType(row.license_type) if row.license_type else None,
            start_date=row.start_date,
            end_date=row.end_date,
        ),
        discounts_requested=tuple(
            RequestedDiscount(d["description"], Decimal(d["percent"]))
            for d in json.loads(row.discounts_requested)
        ),
        project_description=row.project_description,
        status=DealStatus(row.status),
        customer_id=row.customer_id,
        order_id=row.order_id,
    )


async def get_deal_row(
    session: AsyncSession, deal_id: str, *, for_update: bool = False
) -> DealRegistrationRow:
    """The registration's row, or NotFound."""
    return await _row(session, DealRegistrationRow, "deal registration", deal_id, for_update=for_update)


async def save_deal(session: AsyncSession, deal: DealRegistration) -> DealRegistrationRow:
    """Insert or update a registration."""
    now = utcnow()
    existing = await session.get(DealRegistrationRow, deal.id)
    contact = deal.agreement_contact
    values = {
        "id": deal.id,
        "partner_id": deal.partner_id,
        "opportunity_name": deal.opportunity_name,
        "opportunity_details": deal.opportunity_details,
        "customer_company_name": deal.customer_company_name,
        "agreement_contact_name": contact.name if contact else None,
        "agreement_contact_email": contact.email if contact else None,
        "currency": deal.licensing.currency,
        "license_type": deal.licensing.license_type.value if deal.licensing.license_type else None,
        "start_date": deal.licensing.start_date,
        "end_date": deal.licensing.end_date,
        "discounts_requested": json.dumps(
            [{"description": d.description, "percent": str(d.percent)} for d in deal.discounts_requested]
        ),
        "project_description": deal.project_description,
        "status": deal.status.value,
        "customer_id": deal.customer_id,
        "order_id": deal.order_id,
        "updated_at": now,
        "created_at": existing.created_at if existing else now,
    }
    return await _upsert(session, DealRegistrationRow, deal.id, values)


# ----- customers, accounts ------------------------------------------------------------------


async def add_customer(session: AsyncSession, customer: Customer) -> CustomerRow:
    """Store a new customer."""
    row = CustomerRow(id=customer.id, name=customer.name, partner_id=customer.partner_id, created_at=utcnow())
    session.add(row)
    return row


async def get_customer_row(session: AsyncSession, customer_id: str) -> CustomerRow:
    """The customer's row, or NotFound."""
    return await _row(session, CustomerRow, "customer", customer_id, for_update=False)


def _profile_from_row(row: AccountRow) -> BillingProfile:
    address = (
        TaxAddress(row.tax_country, row.tax_region, row.tax_postal_code)
        if row.tax_country is not None
        else None
    )
    return BillingProfile(
        currency=row.currency,
        time_zone=row.time_zone,
        bill_cycle_day=row.bill_cycle_day,
        payment_terms_days=row.payment_terms_days,
        delivery=DeliveryPreference(row.delivery),
        tax_status=TaxStatus(
            TaxTreatment(row.tax_treatment), row.tax_certificate_number, row.tax_certificate_expiry
        ),
        tax_address=address,
        contacts=tuple(
            Contact(c["name"], c["email"], ContactRole(c["role"]), c.get("phone"))
            for c in json.loads(row.contacts)
        ),
    )


def account_from_row(row: AccountRow) -> Account:
    """Domain account of a row."""
    return Account(
        id=row.id,
        customer_id=row.customer_id,
        name=row.name,
        billing_profile=_profile_from_row(row),
        parent_account_id=row.parent_account_id,
        bills_to_parent=row.bills_to_parent,
    )


async def get_account_row(session: AsyncSession, account_id: str, *, for_update: bool = False) -> AccountRow:
    """The account's row, or NotFound."""
    return await _row(session, AccountRow, "account", account_id, for_update=for_update)


async def get_account(session: AsyncSession, account_id: str, *, for_update: bool = False) -> Account:
    """The account, or NotFound."""
    return account_from_row(await get_account_row(session, account_id, for_update=for_update))


async def children_billing_to(session: AsyncSession, account_id: str) -> list[Account]:
    """Accounts directly under `account_id` that bill to it."""
    rows = (
        await session.exec(
            select(AccountRow).where(
                AccountRow.parent_account_id == account_id,
                AccountRow.bills_to_parent == True,  # noqa: E712
            )
        )
    ).all()
    return [account_from_row(r) for r in rows]


async def hierarchy_of(session: AsyncSession, customer_ids: set[str]) -> AccountHierarchy:
    """Parent links of the accounts of the given customers (a hierarchy never crosses more)."""
    rows = (
        await session.exec(
            select(AccountRow.id, AccountRow.parent_account_id).where(
                AccountRow.customer_id.in_(customer_ids)  # type: ignore[attr-defined]
            )
        )
    ).all()
    return AccountHierarchy({r[0]: r[1] for r in rows})


async def save_account(session: AsyncSession, account: Account) -> AccountRow:
    """Insert or update an account."""
    now = utcnow()
    existing = await session.get(AccountRow, account.id)
    profile = account.billing_profile
    tax, address = profile.tax_status, profile.tax_address
    values = {
        "id": account.id,
        "customer_id": account.customer_id,
        "name": account.name,
        "parent_account_id": account.parent_account_id,
        "bills_to_parent": account.bills_to_parent,
        "currency": profile.currency,
        "time_zone": profile.time_zone,
        "bill_cycle_day": profile.bill_cycle_day,
        "payment_terms_days": profile.payment_terms_days,
        "delivery": profile.delivery.value,
        "tax_treatment": tax.treatment.value,
        "tax_certificate_number": tax.certificate_number,
        "tax_certificate_expiry": tax.certificate_expiry,
        "tax_country": address.country if address else None,
        "tax_region": address.region if address else None,
        "tax_postal_code": address.postal_code if address else None,
        "contacts": json.dumps(
            [
                {"name": c.name, "email": c.email, "role": c.role.value, "phone": c.phone}
                for c in profile.contacts
            ]
        ),
        "created_at": existing.created_at if existing else now,
        "updated_at": now,
    }
    return await _upsert(session, AccountRow, account.id, values)


# ----- orders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotedLineDiscount:
    """A discount on a line as the catalog quoted it."""

    discount_id: str
    name: str
    amount: Decimal
    approval_threshold_percent: Decimal | None
    kind: str
    value: Decimal


@dataclass(frozen=True)
class LinePricing:
    """The catalog facts snapshotted on a line beside the domain's OrderLine."""

    product_sku: str | None = None
    product_name: str | None = None
    product_kind: str | None = None
    product_vendor_id: str | None = None
    charge_type: str | None = None
    billing_period: str | None = None
    billing_timing: str | None = None
    list_amount: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    net_amount: Decimal = Decimal(0)
    effective_percent_off: Decimal = Decimal(0)
    discounts: tuple[QuotedLineDiscount, ...] = ()


@dataclass
class StoredOrder:
    """An order with the pricing snapshot of its lines and its timestamps."""

    order: SalesOrder
    pricing: dict[str, LinePricing] = field(default_factory=dict)
    quote_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _line_from_row(row: OrderLineRow) -> tuple[OrderLine, LinePricing]:
    quoted = tuple(
        QuotedLineDiscount(
            d["discount_id"],
            d["name"],
            Decimal(d["amount"]),
            _decimal_or_none(d["approval_threshold_percent"]),
            d["kind"],
            Decimal(d["value"]),
        )
        for d in json.loads(row.discounts)
    )
    line = OrderLine(
        id=row.id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        quantity=row.quantity,
        unit_list_price=row.unit_list_price,
        currency=row.currency,
        license_type=LicenseType(row.license_type),
        term_months=row.term_months,
        discounts=tuple(line_discount(d) for d in quoted),
        subscription_id=row.subscription_id,
        effective_date=row.effective_date,
        renewal=(
            RenewalPolicy(RenewalKind(row.renewal_kind), row.renewal_months) if row.renewal_kind else None
        ),
        commitment_quantity=row.commitment_quantity,
        termination_fee_price_id=row.termination_fee_price_id,
    )
    pricing = LinePricing(
        product_sku=row.product_sku,
        product_name=row.product_name,
        product_kind=row.product_kind,
        product_vendor_id=row.product_vendor_id,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        billing_timing=row.billing_timing,
        list_amount=row.list_amount,
        discount_amount=row.discount_amount,
        net_amount=row.net_amount,
        effective_percent_off=row.effective_percent_off,
        discounts=quoted,
    )
    return line, pricing


def _decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def line_discount(quoted: QuotedLineDiscount) -> LineDiscount:
    """The domain discount of a quoted one: a percent, or the amount the catalog took off."""
    if quoted.kind == "percent":
        return LineDiscount(quoted.discount_id, quoted.approval_threshold_percent, percent=quoted.value)
    return LineDiscount(quoted.discount_id, quoted.approval_threshold_percent, amount=quoted.amount)


async def get_order(session: AsyncSession, order_id: str, *, for_update: bool = False) -> StoredOrder:
    """The order with its lines, or NotFound."""
    row = await _row(session, SalesOrderRow, "order", order_id, for_update=for_update)
    line_rows = await _children(session, OrderLineRow, OrderLineRow.order_id, order_id, OrderLineRow.position)
    lines, pricing = [], {}
    for line_row in line_rows:
        line, priced = _line_from_row(line_row)
        lines.append(line)
        pricing[line.id] = priced
    order = SalesOrder(
        id=row.id,
        customer_id=row.customer_id,
        account_id=row.account_id,
        kind=OrderKind(row.kind),
        status=OrderStatus(row.status),
        lines=lines,
        approval_required=row.approval_required,
        approved_by=row.approved_by,
        deal_registration_id=row.deal_registration_id,
        requested_discounts_note=row.requested_discounts_note,
    )
    return StoredOrder(order, pricing, row.quote_id, row.created_at, row.updated_at)


async def save_order(session: AsyncSession, stored: StoredOrder, *, currency: str) -> None:
    """Insert or update an order and rewrite its lines."""
    order, now = stored.order, utcnow()
    stored.created_at = stored.created_at or now
    stored.updated_at = now
    await _upsert(
        session,
        SalesOrderRow,
        order.id,
        {
            "id": order.id,
            "customer_id": order.customer_id,
            "account_id": order.account_id,
            "kind": order.kind.value,
            "status": order.status.value,
            "currency": currency,
            "approval_required": order.approval_required,
            "approved_by": order.approved_by,
            "deal_registration_id": order.deal_registration_id,
            "requested_discounts_note": order.requested_discounts_note,
            "quote_id": stored.quote_id,
            "created_at": stored.created_at,
            "updated_at": now,
        },
    )
    await session.flush()
    await session.exec(delete(OrderLineRow).where(OrderLineRow.order_id == order.id))  # type: ignore[arg-type]
    for position, line in enumerate(order.lines):
        priced = stored.pricing.get(line.id, LinePricing())
        session.add(
            OrderLineRow(
                id=line.id,
                order_id=order.id,
                position=position,
                product_id=line.product_id,
                product_sku=priced.product_sku,
                product_name=priced.product_name,
                product_kind=priced.product_kind,
                product_vendor_id=priced.product_vendor_id,
                price_id=line.price_id,
                price_version=line.price_version,
                charge_type=priced.charge_type,
                billing_period=priced.billing_period,
                billing_timing=priced.billing_timing,
                currency=line.currency,
                license_type=line.license_type.value,
                quantity=line.quantity,
                unit_list_price=line.unit_list_price,
                list_amount=priced.list_amount,
                discount_amount=priced.discount_amount,
                net_amount=priced.net_amount,
                effective_percent_off=priced.effective_percent_off,
                needs_approval=line.needs_approval,
                discounts=json.dumps(
                    [
                        {
                            "discount_id": d.discount_id,
                            "name": d.name,
                            "amount": str(d.amount),
                            "approval_threshold_percent": _str_or_none(d.approval_threshold_percent),
                            "kind": d.kind,
                            "value": str(d.value),
                        }
                        for d in priced.discounts
                    ]
                ),
                term_months=line.term_months,
                subscription_id=line.subscription_id,
                effective_date=line.effective_date,
                renewal_kind=line.renewal.kind.value if line.renewal else None,
                renewal_months=line.renewal.months if line.renewal else None,
                commitment_quantity=line.commitment_quantity,
                termination_fee_price_id=line.termination_fee_price_id,
            )
        )


# ----- subscriptions ------------------------------------------------------------------------


@dataclass
class StoredSubscription:
    """A subscription with the billing facts kept beside it."""

    subscription: Subscription
    currency: str
    unit_price: Decimal
    discount_percent: Decimal
    charge_type: str | None
    billing_period: str | None
    billing_timing: str | None
    order_line_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    history_saved: int = 0


def _snapshot(prefix: str, row: SubscriptionChangeRow) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        SubscriptionState(getattr(row, f"{prefix}_state")),
        getattr(row, f"{prefix}_quantity"),
        getattr(row, f"{prefix}_term_start"),
        getattr(row, f"{prefix}_term_end"),
        row.price_id,
        row.price_version,
    )


async def _subscriptions_from_rows(
    session: AsyncSession, rows: Sequence[SubscriptionRow]
) -> list[StoredSubscription]:
    """The subscriptions of `rows` with their histories, read in one query."""
    histories: dict[str, list[SubscriptionChange]] = {row.id: [] for row in rows}
    if rows:
        changes = (
            await session.exec(
                select(SubscriptionChangeRow)
                .where(col(SubscriptionChangeRow.subscription_id).in_(list(histories)))
                .order_by(col(SubscriptionChangeRow.subscription_id), col(SubscriptionChangeRow.sequence))
            )
        ).all()
        for c in changes:
            histories[c.subscription_id].append(
                SubscriptionChange(
                    ChangeKind(c.kind),
                    c.effective_date,
                    _snapshot("before", c),
                    _snapshot("after", c),
                    c.by,
                    c.reason,
                )
            )
    return [_stored_subscription(row, histories[row.id]) for row in rows]


def _stored_subscription(row: SubscriptionRow, history: list[SubscriptionChange]) -> StoredSubscription:
    subscription = Subscription(
        id=row.id,
        account_id=row.account_id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        quantity=row.quantity,
        license_type=LicenseType(row.license_type),
        term_start=row.term_start,
        term_end=row.term_end,
        commitment_quantity=row.commitment_quantity,
        renewal=RenewalPolicy(RenewalKind(row.renewal_kind), row.renewal_months),
        state=SubscriptionState(row.state),
        order_id=row.order_id,
        termination_fee_price_id=row.termination_fee_price_id,
        termination_fee=(
            TerminationFee(
                row.termination_fee_price_id,
                row.termination_fee_price_version,
                row.termination_fee_amount,
                row.currency,
            )
            if row.termination_fee_price_id
            and row.termination_fee_price_version is not None
            and row.termination_fee_amount is not None
            else None
        ),
        history=history,
    )
    return StoredSubscription(
        subscription,
        currency=row.currency,
        unit_price=row.unit_price,
        discount_percent=row.discount_percent,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        billing_timing=row.billing_timing,
        order_line_id=row.order_line_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        history_saved=len(history),
    )


async def get_subscription(
    session: AsyncSession, subscription_id: str, *, for_update: bool = False
) -> StoredSubscription:
    """The subscription with its history, or NotFound."""
    row = await _row(session, SubscriptionRow, "subscription", subscription_id, for_update=for_update)
    return (await _subscriptions_from_rows(session, [row]))[0]


async def subscriptions_of_account(
    session: AsyncSession, account_id: str, states: set[SubscriptionState]
) -> list[StoredSubscription]:
    """The account's subscriptions in the given states, locked for a change, oldest first."""
    rows = (
        await session.exec(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.account_id == account_id,
                col(SubscriptionRow.state).in_([s.value for s in states]),
            )
            .order_by(SubscriptionRow.id)
            .with_for_update()
        )
    ).all()
    return await _subscriptions_from_rows(session, rows)


async def subscriptions_at_term_end(
    session: AsyncSession, as_of: date, *, after: str, limit: int
) -> list[StoredSubscription]:
    """Up to `limit` active subscriptions whose term ended by `as_of`, ids after `after`, locked.

    Two queries per chunk whatever its size: the rows, then all their histories.
    """
    rows = (
        await session.exec(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.state == SubscriptionState.ACTIVE.value,
                col(SubscriptionRow.term_end) <= as_of,
                col(SubscriptionRow.id) > after,
            )
            .order_by(SubscriptionRow.id)
            .limit(limit)
            .with_for_update()
        )
    ).all()
    return await _subscriptions_from_rows(session, rows)


async def save_subscription(session: AsyncSession, stored: StoredSubscription) -> None:
    """Insert or update a subscription and append its new history entries."""
    await save_subscriptions(session, [stored])


async def save_subscriptions(session: AsyncSession, stored_many: Sequence[StoredSubscription]) -> None:
    """Insert or update subscriptions and append their new history entries, in set statements."""
    now = utcnow()
    ids = [stored.subscription.id for stored in stored_many]
    with session.no_autoflush:
        # One read for every row (from the session's identity map where loaded), no flush per row.
        rows = {
            row.id: row
            for row in (
                await session.exec(select(SubscriptionRow).where(col(SubscriptionRow.id).in_(ids)))
            ).all()
        }
    for stored in stored_many:
        sub, fee = stored.subscription, stored.subscription.termination_fee
        stored.created_at = stored.created_at or now
        stored.updated_at = now
        _put(
            session,
            SubscriptionRow,
            rows.get(sub.id),
            {
                "id": sub.id,
                "account_id": sub.account_id,
                "order_id": sub.order_id,
                "order_line_id": stored.order_line_id,
                "product_id": sub.product_id,
                "price_id": sub.price_id,
                "price_version": sub.price_version,
                "currency": stored.currency,
                "unit_price": stored.unit_price,
                "discount_percent": stored.discount_percent,
                "charge_type": stored.charge_type,
                "billing_period": stored.billing_period,
                "billing_timing": stored.billing_timing,
                "quantity": sub.quantity,
                "commitment_quantity": sub.commitment_quantity,
                "license_type": sub.license_type.value,
                "term_start": sub.term_start,
                "term_end": sub.term_end,
                "renewal_kind": sub.renewal.kind.value,
                "renewal_months": sub.renewal.months,
                "state": sub.state.value,
                "termination_fee_price_id": sub.termination_fee_price_id,
                "termination_fee_price_version": fee.price_version if fee else None,
                "termination_fee_amount": fee.amount if fee else None,
                "created_at": stored.created_at,
                "updated_at": now,
            },
        )
    # The subscriptions first (the history references them), then every new entry at once.
    await session.flush()
    for stored in stored_many:
        _add_history(session, stored, now)


def _add_history(session: AsyncSession, stored: StoredSubscription, now: datetime) -> None:
    sub = stored.subscription
    new_changes = sub.history[stored.history_saved :]
    # History pages are ordered by id: ids made in one millisecond must still sort in sequence.
    ids = sorted(new_id("subchg") for _ in new_changes)
    for offset, change in enumerate(new_changes):
        session.add(
            SubscriptionChangeRow(
                id=ids[offset],
                subscription_id=sub.id,
                sequence=stored.history_saved + 1 + offset,
                kind=change.kind.value,
                effective_date=change.effective_date,
                by=change.by[:80],
                reason=change.reason,
                before_state=change.before.state.value,
                after_state=change.after.state.value,
                before_quantity=change.before.quantity,
                after_quantity=change.after.quantity,
                before_term_start=change.before.term_start,
                after_term_start=change.after.term_start,
                before_term_end=change.before.term_end,
                after_term_end=change.after.term_end,
                price_id=change.after.price_id,
                price_version=change.after.price_version,
                recorded_at=now,
            )
        )
    stored.history_saved = len(sub.history)


# ----- workflows ----------------------------------------------------------------------------


@dataclass
class StoredWorkflow:
    """A workflow and the order line it provisions."""

    workflow: Workflow
    order_line_id: str | None = None


def task_from_row(row: WorkflowTaskRow) -> WorkflowTask:
    """Domain task of a row."""
    return WorkflowTask(
        id=row.id,
        key=row.key,
        title=row.title,
        owner_team=row.owner_team,
        due_date=row.due_date,
        requires=tuple(json.loads(row.requires)),
        state=TaskState(row.state),
        assignee=row.assignee,
        completed_on=row.completed_on,
        blocked_reason=row.blocked_reason,
        notes=[TaskNote(datetime.fromisoformat(n["at"]), n["by"], n["text"]) for n in json.loads(row.notes)],
    )


async def get_workflow(
    session: AsyncSession, workflow_id: str, *, for_update: bool = False
) -> StoredWorkflow:
    """The workflow with its tasks, or NotFound."""
    row = await _row(session, WorkflowRow, "workflow", workflow_id, for_update=for_update)
    tasks = await _children(
        session, WorkflowTaskRow, WorkflowTaskRow.workflow_id, workflow_id, WorkflowTaskRow.position
    )
    workflow = Workflow(
        id=row.id,
        template_name=row.template_name,
        order_id=row.order_id,
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        started_on=row.started_on,
        tasks=[task_from_row(t) for t in tasks],
        status=WorkflowStatus(row.status),
        completed_on=row.completed_on,
    )
    return StoredWorkflow(workflow, row.order_line_id)


async def workflow_id_of_task(session: AsyncSession, task_id: str) -> str:
    """The workflow a task belongs to, or NotFound."""
    row = await session.get(WorkflowTaskRow, task_id)
    if row is None:
        raise NotFound("task", task_id)
    return row.workflow_id


async def save_workflow(session: AsyncSession, stored: StoredWorkflow) -> None:
    """Insert or update a workflow and its tasks."""
    wf = stored.workflow
    existing = await session.get(WorkflowRow, wf.id)
    await _upsert(
        session,
        WorkflowRow,
        wf.id,
        {
            "id": wf.id,
            "template_name": wf.template_name,
            "order_id": wf.order_id,
            "order_line_id": stored.order_line_id,
            "account_id": wf.account_id,
            "subscription_id": wf.subscription_id,
            "started_on": wf.started_on,
            "status": wf.status.value,
            "completed_on": wf.completed_on,
            "created_at": existing.created_at if existing else utcnow(),
        },
    )
    for position, task in enumerate(wf.tasks):
        await _upsert(
            session,
            WorkflowTaskRow,
            task.id,
            {
                "id": task.id,
                "workflow_id": wf.id,
                "position": position,
                "key": task.key,
                "title": task.title,
                "owner_team": task.owner_team,
                "due_date": task.due_date,
                "requires": json.dumps(list(task.requires)),
                "state": task.state.value,
                "assignee": task.assignee,
                "completed_on": task.completed_on,
                "blocked_reason": task.blocked_reason,
                "notes": json.dumps(
                    [{"at": n.at.isoformat(), "by": n.by, "text": n.text} for n in task.notes]
                ),
            },
        )


async def workflows_of_order(session: AsyncSession, order_id: str) -> list[WorkflowRow]:
    """Every workflow started for an order."""
    return list((await session.exec(select(WorkflowRow).where(WorkflowRow.order_id == order_id))).all())


# ----- fulfillments -------------------------------------------------------------------------


@dataclass
class StoredFulfillment:
    """A fulfillment and its timestamps."""

    fulfillment: Fulfillment
    created_at: datetime | None = None
    updated_at: datetime | None = None


async def _fulfillment_from_row(session: AsyncSession, row: FulfillmentRow) -> StoredFulfillment:
    lines = await _children(
        session, FulfillmentLineRow, FulfillmentLineRow.fulfillment_id, row.id, FulfillmentLineRow.position
    )
    fulfillment = Fulfillment(
        id=row.id,
        order_id=row.order_id,
        account_id=row.account_id,
        lines=[
            FulfillmentLine(
                order_line_id=line.order_line_id,
                product_id=line.product_id,
                license_type=LicenseType(line.license_type),
                quantity=line.quantity,
                unit_list_price=line.unit_list_price,
                discount_percent=line.discount_percent,
                currency=line.currency,
            )
            for line in lines
        ],
        associated_project_id=row.associated_project_id,
        status=FulfillmentStatus(row.status),
        completed_on=row.completed_on,
    )
    return StoredFulfillment(fulfillment, row.created_at, row.updated_at)


async def get_fulfillment(
    session: AsyncSession, fulfillment_id: str, *, for_update: bool = False
) -> StoredFulfillment:
    """The fulfillment with its lines, or NotFound."""
    row = await _row(session, FulfillmentRow, "fulfillment", fulfillment_id, for_update=for_update)
    return await _fulfillment_from_row(session, row)


async def fulfillments_of_order(session: AsyncSession, order_id: str) -> list[Fulfillment]:
    """Every fulfillment recorded against an order."""
    rows = await _children(session, FulfillmentRow, FulfillmentRow.order_id, order_id, FulfillmentRow.id)
    return [(await _fulfillment_from_row(session, r)).fulfillment for r in rows]


async def save_fulfillment(session: AsyncSession, stored: StoredFulfillment) -> None:
    """Insert or update a fulfillment and rewrite its lines."""
    ful, now = stored.fulfillment, utcnow()
    stored.created_at = stored.created_at or now
    stored.updated_at = now
    await _upsert(
        session,
        FulfillmentRow,
        ful.id,
        {
            "id": ful.id,
            "order_id": ful.order_id,
            "account_id": ful.account_id,
            "associated_project_id": ful.associated_project_id,
            "status": ful.status.value,
            "completed_on": ful.completed_on,
            "created_at": stored.created_at,
            "updated_at": now,
        },
    )
    await session.flush()
    await session.exec(delete(FulfillmentLineRow).where(FulfillmentLineRow.fulfillment_id == ful.id))  # type: ignore[arg-type]
    for position, line in enumerate(ful.lines):
        session.add(
            FulfillmentLineRow(
                fulfillment_id=ful.id,
                order_line_id=line.order_line_id,
                position=position,
                product_id=line.product_id,
                license_type=line.license_type.value,
                quantity=line.quantity,
                unit_list_price=line.unit_list_price,
                discount_percent=line.discount_percent,
                currency=line.currency,
            )
        )


# ----- named users --------------------------------------------------------------------------


@dataclass
class StoredPool:
    """A named-user pool and how much of its history is already stored."""

    pool: NamedUserPool
    created_at: datetime | None = None
    transfers_saved: int = 0


async def get_pool(session: AsyncSession, pool_id: str, *, for_update: bool = False) -> StoredPool:
    """The pool with its assignments and transfers, or NotFound."""
    row = await _row(session, NamedUserPoolRow, "named-user pool", pool_id, for_update=for_update)
    assignments = await _children(session, NamedUserAssignmentRow, NamedUserAssignmentRow.pool_id, pool_id)
    transfers = await _children(
        session, NamedUserTransferRow, NamedUserTransferRow.pool_id, pool_id, NamedUserTransferRow.sequence
    )
    pool = NamedUserPool(
        id=row.id,
        account_id=row.account_id,
        size=row.size,
        programs_per_user=row.programs_per_user,
        contract_programs=frozenset(json.loads(row.contract_programs)),
        contract_start=row.contract_start,
        transfer_percent=row.transfer_percent,
        subscription_id=row.subscription_id,
        assignments={a.user_id: frozenset(json.loads(a.programs)) for a in assignments},
        transfers=[SeatTransfer(t.from_user, t.to_user, t.on_date, t.contract_year, t.by) for t in transfers],
    )
    return StoredPool(pool, row.created_at, len(transfers))


async def save_pool(
    session: AsyncSession, stored: StoredPool, *, changed_users: set[str] | None = None
) -> None:
    """Insert or update a pool; rewrites the assignments of `changed_users` (all when None)."""
    pool = stored.pool
    stored.created_at = stored.created_at or utcnow()
    await _upsert(
        session,
        NamedUserPoolRow,
        pool.id,
        {
            "id": pool.id,
            "account_id": pool.account_id,
            "subscription_id": pool.subscription_id,
            "size": pool.size,
            "programs_per_user": pool.programs_per_user,
            "contract_programs": json.dumps(sorted(pool.contract_programs)),
            "contract_start": pool.contract_start,
            "transfer_percent": pool.transfer_percent,
            "created_at": stored.created_at,
        },
    )
    await session.flush()
    users = set(pool.assignments) if changed_users is None else changed_users
    for user in users:
        programs = pool.assignments.get(user)
        if programs is None:
            await session.exec(
                delete(NamedUserAssignmentRow).where(
                    col(NamedUserAssignmentRow.pool_id) == pool.id,
                    col(NamedUserAssignmentRow.user_id) == user,
                )
            )
        else:
            await _upsert(
                session,
                NamedUserAssignmentRow,
                (pool.id, user),
                {"pool_id": pool.id, "user_id": user, "programs": json.dumps(sorted(programs))},
            )
    for sequence, transfer in enumerate(
        pool.transfers[stored.transfers_saved :], start=stored.transfers_saved + 1
    ):
        session.add(
            NamedUserTransferRow(
                id=new_id("xfer"),
                pool_id=pool.id,
                sequence=sequence,
                from_user=transfer.from_user,
                to_user=transfer.to_user,
                on_date=transfer.on_date,
                contract_year=transfer.contract_year,
                by=transfer.by[:80],
            )
        )
    stored.transfers_saved = len(pool.transfers)


async def count(session: AsyncSession, model: type[SQLModel], *conditions: Any) -> int:
    """Number of rows matching the conditions."""
    stmt = select(func.count()).select_from(model)
    for condition in conditions:
        stmt = stmt.where(condition)
    return int((await session.exec(stmt)).one())


def today() -> date:
    """Today's date in UTC (the service's clock for default effective dates)."""
    return utcnow().date()
