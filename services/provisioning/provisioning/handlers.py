"""The service layer: one handler per use case, each in one unit of work.

A handler loads aggregates through the repository, lets the domain decide, saves, audits and
emits the resulting contract events — all in the caller's transaction, which it commits. Reads
take a plain session. Routes and consumers call exactly one handler each.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.collections import CollectionsRequest
from libs.contracts.envelope import EventPayload
from libs.platform.db import utcnow
from libs.platform.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from libs.platform.money import round_money, round_unit_price
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.periods import add_months, local_date
from libs.platform.unit_of_work import UnitOfWork
from provisioning import publishing, views
from provisioning import repository as repo
from provisioning import schemas as s
from provisioning.catalog_client import (
    CatalogClient,
    CatalogDiscount,
    CatalogPrice,
    CatalogProduct,
    CatalogRejected,
    QuoteItem,
)
from provisioning.domain.accounts import (
    Account,
    BillingProfile,
    Contact,
    Customer,
    TaxAddress,
    TaxStatus,
)
from provisioning.domain.deals import (
    AgreementContact,
    DealRegistration,
    LicensingDetails,
    Partner,
    RequestedDiscount,
)
from provisioning.domain.fulfillments import Fulfillment, FulfillmentStatus, committed_balances
from provisioning.domain.named_users import NamedUserPool
from provisioning.domain.orders import (
    OrderKind,
    OrderLine,
    OrderStatus,
    SalesOrder,
    collect_term_errors,
)
from provisioning.domain.subscriptions import (
    LicenseType,
    RenewalKind,
    RenewalPolicy,
    Subscription,
    SubscriptionState,
    TerminationFee,
    TermOutcome,
)
from provisioning.domain.workflows import TaskState, Workflow, WorkflowStatus, template_for
from provisioning.models import (
    AccountRow,
    CustomerRow,
    DealRegistrationRow,
    FulfillmentRow,
    NamedUserAssignmentRow,
    NamedUserPoolRow,
    PartnerRow,
    SalesOrderRow,
    SubscriptionChangeRow,
    SubscriptionRow,
    WorkflowRow,
    WorkflowTaskRow,
)
from provisioning.repository import (
    LinePricing,
    QuotedLineDiscount,
    StoredFulfillment,
    StoredOrder,
    StoredPool,
    StoredSubscription,
    StoredWorkflow,
    today,
)

log = get_logger("provisioning.handlers")

# A line's amounts must fit every backend's exact numeric column with room for the price.
MAX_LINE_QUANTITY = Decimal(1_000_000_000)
# Charges that make a lasting service instance; one-time charges are billed on fulfillment.
SUBSCRIPTION_CHARGE_TYPES = frozenset({"recurring", "usage", None})
DEFAULT_TERM_MONTHS = 12
# Subscriptions handled per round trip when terms end: one read of rows, one of their histories.
TERM_END_CHUNK = 500


def _emit_all(uow: UnitOfWork, payloads: Any, key: str) -> None:
    for payload in payloads:
        uow.emit(payload, key=key)


async def _commit_change(
    uow: UnitOfWork,
    action: str,
    entity: tuple[str, str],
    changes: dict[str, Any],
    payloads: Iterable[EventPayload],
    key: str,
) -> None:
    """Audit a change, emit its events and commit them with it (the end of every changing handler)."""
    uow.audit(action, entity[0], entity[1], changes)
    _emit_all(uow, payloads, key)
    await uow.commit()


def _filtered(model: type[Any], **equal_to: str | None) -> Any:
    """`select(model)` kept to the rows whose columns equal the filters given (None: no filter)."""
    stmt = select(model)
    for column, value in equal_to.items():
        if value:
            stmt = stmt.where(getattr(model, column) == value)
    return stmt


async def _page_of_aggregates(
    session: AsyncSession, stmt: Any, key: Any, page: PageRequest, load: Callable[[str], Awaitable[Any]]
) -> Page[Any]:
    """A page of ids from `stmt`, each loaded as its whole aggregate's view."""
    ids = await paginate(session, stmt, key, page, lambda r: r.id)
    return Page[Any](
        data=[await load(i) for i in ids.data], next_cursor=ids.next_cursor, has_more=ids.has_more
    )


# ----- customers and accounts ---------------------------------------------------------------


def billing_profile_of(data: s.BillingProfileIn) -> BillingProfile:
    """The domain profile of a request's profile."""
    tax = data.tax_status
    address = data.tax_address
    return BillingProfile(
        currency=data.currency,
        time_zone=data.time_zone,
        bill_cycle_day=data.bill_cycle_day,
        payment_terms_days=data.payment_terms_days,
        delivery=data.delivery,
        tax_status=TaxStatus(tax.treatment, tax.certificate_number, tax.certificate_expiry),
        tax_address=TaxAddress(address.country, address.region, address.postal_code) if address else None,
        contacts=tuple(Contact(c.name, c.email, c.role, c.phone) for c in data.contacts),
    )


async def register_customer(*, uow: UnitOfWork, command: s.CustomerCreate, actor: str) -> s.CustomerPublic:
    """Register a customer (optionally brought in by a partner)."""
    if command.partner_id is not None:
        await repo.get_partner(uow.session, command.partner_id)
    customer = Customer.register(command.name, partner_id=command.partner_id, by=actor)
    row = await repo.add_customer(uow.session, customer)
    uow.audit("customer.registered", "customer", customer.id, {"name": customer.name})
    uow.emit(publishing.customer_registered(customer), key=customer.id)
    await uow.commit()
    return views.customer(row)


async def open_account(*, uow: UnitOfWork, command: s.AccountCreate, actor: str) -> s.AccountPublic:
    """Open a billing account; a child billing to its parent must share its currency."""
    await repo.get_customer_row(uow.session, command.customer_id)
    parent = None
    if command.parent_account_id is not None:
        parent = await repo.get_account(uow.session, command.parent_account_id)
        if parent.customer_id != command.customer_id:
            raise ValidationFailed.single("parent_account_id", "belongs to another customer")
    account = Account.open(
        customer_id=command.customer_id,
        name=command.name,
        billing_profile=billing_profile_of(command.billing_profile),
        parent=parent,
        bills_to_parent=command.bills_to_parent,
        by=actor,
    )
    row = await repo.save_account(uow.session, account)
    uow.audit("account.opened", "account", account.id, command.model_dump(mode="json"))
    uow.emit(publishing.account_profile(account, opened=True), key=account.id)
    await uow.commit()
    return views.account(row, account)


async def update_account(
    *, uow: UnitOfWork, account_id: str, command: s.AccountUpdate, actor: str
) -> s.AccountPublic:
    """Change an account's billing profile and/or its parent."""
    session = uow.session
    account = await repo.get_account(session, account_id, for_update=True)
    sent = command.model_fields_set
    if "parent_account_id" in sent:
        if command.parent_account_id is None:
            account.detach_from_parent(by=actor)
        else:
            parent = await repo.get_account(session, command.parent_account_id)
            hierarchy = await repo.hierarchy_of(session, {account.customer_id, parent.customer_id})
            if parent.customer_id != account.customer_id:
                raise ValidationFailed.single("parent_account_id", "belongs to another customer")
            account.attach_to_parent(
                parent, hierarchy=hierarchy, bills_to_parent=bool(command.bills_to_parent), by=actor
            )
    elif command.bills_to_parent is not None:
        if account.parent_account_id is None:
            if command.bills_to_parent:
                raise ValidationFailed.single(
                    "bills_to_parent", "only an account with a parent can bill to it"
                )
        else:
            parent = await repo.get_account(session, account.parent_account_id)
            hierarchy = await repo.hierarchy_of(session, {account.customer_id})
            account.attach_to_parent(
                parent, hierarchy=hierarchy, bills_to_parent=command.bills_to_parent, by=actor
            )
    if command.billing_profile is not None:
        current_parent = (
            await repo.get_account(session, account.parent_account_id) if account.parent_account_id else None
        )
        account.change_billing_profile(
            billing_profile_of(command.billing_profile),
            parent=current_parent,
            children_billing_here=await repo.children_billing_to(session, account.id),
            by=actor,
        )
    if not account.events:
        raise ValidationFailed.single("body", "nothing to change", "empty_update")
    row = await repo.save_account(session, account)
    uow.audit("account.changed", "account", account.id, command.model_dump(mode="json", exclude_unset=True))
    uow.emit(publishing.account_profile(account, opened=False), key=account.id)
    await uow.commit()
    return views.account(row, account)


async def get_customer(*, session: AsyncSession, customer_id: str) -> s.CustomerPublic:
    """One customer."""
    return views.customer(await repo.get_customer_row(session, customer_id))


async def list_customers(*, session: AsyncSession, page: PageRequest, partner_id: str | None) -> Page[Any]:
    """A page of customers."""
    stmt = _filtered(CustomerRow, partner_id=partner_id)
    return await paginate(session, stmt, CustomerRow.id, page, views.customer)


async def get_account(*, session: AsyncSession, account_id: str) -> s.AccountPublic:
    """One account."""
    return views.account(await repo.get_account_row(session, account_id))


async def list_accounts(
    *, session: AsyncSession, page: PageRequest, customer_id: str | None, parent_account_id: str | None
) -> Page[Any]:
    """A page of accounts, optionally of one customer or under one parent."""
    stmt = _filtered(AccountRow, customer_id=customer_id, parent_account_id=parent_account_id)
    return await paginate(session, stmt, AccountRow.id, page, views.account)


# ----- partners and deals -------------------------------------------------------------------


async def enrol_partner(*, uow: UnitOfWork, command: s.PartnerCreate, actor: str) -> s.PartnerPublic:
    """Add a partner."""
    partner = Partner.enrol(command.name, contact_email=command.contact_email)
    row = await repo.add_partner(uow.session, partner)
    uow.audit("partner.enrolled", "partner", partner.id, command.model_dump(mode="json"))
    await uow.commit()
    return views.partner(row)


async def get_partner(*, session: AsyncSession, partner_id: str) -> s.PartnerPublic:
    """One partner."""
    return views.partner(await repo.get_partner_row(session, partner_id))


async def list_partners(*, session: AsyncSession, page: PageRequest) -> Page[Any]:
    """A page of partners."""
    return await paginate(session, select(PartnerRow), PartnerRow.id, page, views.partner)


def _deal_changes(deal: DealRegistration, fields: s.DealFields) -> dict[str, Any]:
    sent = fields.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("opportunity_details", "customer_company_name", "project_description"):
        if name in sent:
            changes[name] = getattr(fields, name)
    if "opportunity_name" in sent and getattr(fields, "opportunity_name", None) is not None:
        changes["opportunity_name"] = fields.opportunity_name  # type: ignore[attr-defined]
    if "agreement_contact" in sent:
        contact = fields.agreement_contact
        changes["agreement_contact"] = AgreementContact(contact.name, contact.email) if contact else None
    if "licensing" in sent:
        lic = fields.licensing
        if lic is None:
            changes["licensing"] = LicensingDetails()
        else:
            # Licensing is filled in field by field: only the fields sent change.
            changes["licensing"] = replace(deal.licensing, **lic.model_dump(exclude_unset=True))
    if "discounts_requested" in sent:
        changes["discounts_requested"] = tuple(
            RequestedDiscount(d.description, d.percent) for d in fields.discounts_requested or ()
        )
    return changes


async def register_deal(
    *, uow: UnitOfWork, command: s.DealRegistrationCreate, actor: str
) -> s.DealRegistrationPublic:
    """A partner registers an opportunity; details may follow."""
    partner = await repo.get_partner(uow.session, command.partner_id)
    deal = DealRegistration.register(partner, command.opportunity_name, by=actor)
    changes = _deal_changes(deal, command)
    if changes:
        deal.update(**changes)
    row = await repo.save_deal(uow.session, deal)
    uow.audit("deal.registered", "deal_registration", deal.id, command.model_dump(mode="json"))
    await uow.commit()
    return views.deal(row)


async def update_deal(
    *, uow: UnitOfWork, deal_id: str, command: s.DealRegistrationUpdate, actor: str
) -> s.DealRegistrationPublic:
    """Fill in or change a registration's details (refused once converted)."""
    deal = repo.deal_from_row(await repo.get_deal_row(uow.session, deal_id, for_update=True))
    changes = _deal_changes(deal, command)
    if "opportunity_name" in changes and not (changes["opportunity_name"] or "").strip():
        raise ValidationFailed.single("opportunity_name", "is required", "required")
    deal.update(**changes)
    row = await repo.save_deal(uow.session, deal)
    uow.audit(
        "deal.updated", "deal_registration", deal.id, command.model_dump(mode="json", exclude_unset=True)
    )
    await uow.commit()
    return views.deal(row)


async def get_deal(*, session: AsyncSession, deal_id: str) -> s.DealRegistrationPublic:
    """One registration with its checklist."""
    return views.deal(await repo.get_deal_row(session, deal_id))


async def list_deals(
    *, session: AsyncSession, page: PageRequest, partner_id: str | None, status: str | None
) -> Page[Any]:
    """A page of registrations."""
    stmt = _filtered(DealRegistrationRow, partner_id=partner_id, status=status)
    return await paginate(session, stmt, DealRegistrationRow.id, page, views.deal)


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(1, months + (1 if end.day > start.day else 0))


async def convert_deal(
    *, uow: UnitOfWork, catalog: CatalogClient, deal_id: str, command: s.DealConvert, actor: str
) -> s.DealConversionPublic:
    """Convert a registration into a customer, an account and a draft order, all at once.

    Every missing mandatory field is reported in one 422; the order's lines are priced by the
    catalog, their term defaulting to the deal's licensing period.
    """
    session = uow.session
    deal_row = await repo.get_deal_row(session, deal_id, for_update=True)
    deal = repo.deal_from_row(deal_row)
    # Validate the deal before calling the catalog: an incomplete deal needs no prices.
    problems = deal.problems()
    if deal.status.value != "registered":
        raise Conflict(f"Cannot convert a deal registration that is {deal.status.value}")
    if problems:
        raise ValidationFailed("The deal registration is incomplete", _field_errors(problems))
    lic = deal.licensing
    assert lic.currency and lic.start_date and lic.end_date
    lines_in = [
        line.model_copy(
            update={
                "effective_date": line.effective_date or lic.start_date,
                "term_months": line.term_months or _months_between(lic.start_date, lic.end_date),
            }
        )
        for line in command.lines
    ]
    profile = billing_profile_of(command.billing_profile) if command.billing_profile else None
    currency = profile.currency if profile else lic.currency
    priced = await price_lines(
        session, catalog, currency=currency, account_id=None, kind=OrderKind.NEW, lines=lines_in
    )
    conversion = deal.convert(billing_profile=profile, lines=[p[0] for p in priced.lines], by=actor)
    customer_row = await repo.add_customer(session, conversion.customer)
    await session.flush()
    account_row = await repo.save_account(session, conversion.account)
    await session.flush()
    stored = StoredOrder(conversion.order, {p[0].id: p[1] for p in priced.lines}, priced.quote_id)
    await repo.save_order(session, stored, currency=conversion.account.currency)
    deal_row = await repo.save_deal(session, deal)
    uow.audit("deal.converted", "deal_registration", deal.id, {"order_id": conversion.order.id})
    uow.audit("customer.registered", "customer", conversion.customer.id, {"name": conversion.customer.name})
    uow.audit("account.opened", "account", conversion.account.id, {"currency": conversion.account.currency})
    uow.audit("order.drafted", "order", conversion.order.id, {"lines": len(conversion.order.lines)})
    uow.emit(publishing.customer_registered(conversion.customer), key=conversion.customer.id)
    uow.emit(publishing.account_profile(conversion.account, opened=True), key=conversion.account.id)
    await uow.commit()
    return s.DealConversionPublic(
        deal_registration=views.deal(deal_row),
        customer=views.customer(customer_row),
        account=views.account(account_row, conversion.account),
        order=views.order(stored, currency=conversion.account.currency, deal_row=deal_row),
    )


def _field_errors(problems: Sequence[tuple[str, str]]) -> list[Any]:
    errors = FieldErrors()
    for name, message in problems:
        errors.add(name, message, "required" if message == "is required" else "invalid")
    return errors.errors


async def submit_deal(*, uow: UnitOfWork, catalog: CatalogClient, deal_id: str, actor: str) -> s.OrderPublic:
    """ "Submit to contracts": submit the order the deal was converted into."""
    deal = repo.deal_from_row(await repo.get_deal_row(uow.session, deal_id))
    if deal.order_id is None:
        raise Conflict("Cannot submit a deal registration that is not converted yet")
    return await submit_order(uow=uow, catalog=catalog, order_id=deal.order_id, actor=actor)


# ----- pricing by the catalog ---------------------------------------------------------------


class PricedLines:
    """Lines priced by one quote, with their catalog snapshots."""

    def __init__(self, lines: list[tuple[OrderLine, LinePricing]], quote_id: str | None) -> None:
        self.lines = lines
        self.quote_id = quote_id


def _license_type(product: CatalogProduct, price: CatalogPrice, override: LicenseType | None) -> LicenseType:
    if override is not None:
        return override
    if product.license_type in {t.value for t in LicenseType}:
        return LicenseType(product.license_type)
    return LicenseType.SUBSCRIPTION if price.charge_type in {"recurring", None} else LicenseType.NONE


async def price_lines(
    session: AsyncSession,
    catalog: CatalogClient,
    *,
    currency: str,
    account_id: str | None,
    kind: OrderKind,
    lines: Sequence[s.OrderLineIn],
    first_index: int = 0,
    keep_ids: Sequence[str] | None = None,
) -> PricedLines:
    """Price lines with one catalog quote; every problem of every line is one 422."""
    errors = FieldErrors()
    as_of = today()
    resolved: list[tuple[s.OrderLineIn, str, CatalogPrice, CatalogProduct, list[CatalogDiscount]]] = []
    for offset, line in enumerate(lines):
        prefix = f"lines.{first_index + offset}"
        if line.quantity <= 0:
            errors.add(f"{prefix}.quantity", "must be positive")
        elif line.quantity > MAX_LINE_QUANTITY:
            errors.add(f"{prefix}.quantity", f"must be at most {MAX_LINE_QUANTITY}")
        price_id = line.price_id
        if kind is OrderKind.AMENDMENT:
            if line.subscription_id is None:
                errors.add(f"{prefix}.subscription_id", "an amendment names its subscription", "required")
                continue
            if line.effective_date is None:
                errors.add(f"{prefix}.effective_date", "an amendment needs an effective date", "required")
            sub_row = await session.get(SubscriptionRow, line.subscription_id)
            if sub_row is None or sub_row.account_id != account_id:
                errors.add(f"{prefix}.subscription_id", "is not a subscription of this account", "unknown")
                continue
            price_id = price_id or sub_row.price_id
        elif line.subscription_id is not None:
            errors.add(f"{prefix}.subscription_id", "only amendment orders change existing subscriptions")
        collect_term_errors(
            kind=kind,
            quantity=line.quantity,
            commitment_quantity=line.commitment_quantity,
            has_renewal=line.renewal is not None,
            has_termination_fee=line.termination_fee_price_id is not None,
            prefix=prefix,
            errors=errors,
        )
        if line.termination_fee_price_id is not None and kind is OrderKind.NEW:
            await _check_fee_price(catalog, line.termination_fee_price_id, currency, as_of, prefix, errors)
        if price_id is None:
            errors.add(f"{prefix}.price_id", "is required", "required")
            continue
        price = await catalog.get_price(price_id, as_of=as_of)
        if price is None:
            errors.add(f"{prefix}.price_id", f"no price {price_id!r} in force on {as_of}", "unknown_price")
            continue
        if price.currency != currency:
            errors.add(
                f"{prefix}.price_id",
                f"the price is in {price.currency}; the account is billed in {currency}",
                "currency_mismatch",
            )
        product = await catalog.get_product(price.product_id)
        if product is None:
            errors.add(
                f"{prefix}.price_id",
                f"the price's product {price.product_id!r} is unknown",
                "unknown_product",
            )
            continue
        discounts = []
        for d_index, discount_id in enumerate(line.discount_ids):
            discount = await catalog.get_discount(discount_id)
            if discount is None:
                errors.add(
                    f"{prefix}.discount_ids.{d_index}", f"no discount {discount_id!r}", "unknown_discount"
                )
            elif discount.product_ids and product.id not in discount.product_ids:
                errors.add(
                    f"{prefix}.discount_ids.{d_index}", "does not apply to this product", "not_applicable"
                )
            else:
                discounts.append(discount)
        resolved.append((line, price_id, price, product, discounts))
    errors.raise_if_any("The order lines cannot be priced")
    if not resolved:
        return PricedLines([], None)
    try:
        quote = await catalog.quote(
            currency=currency,
            as_of=as_of,
            items=[QuoteItem(pid, line.quantity, tuple(line.discount_ids)) for line, pid, *_ in resolved],
        )
    except CatalogRejected as exc:
        raise ValidationFailed(
            f"The catalog refused to price the lines: {exc.detail}", _quote_errors(exc, first_index)
        ) from None
    if len(quote.lines) != len(resolved):
        raise ValidationFailed.single("lines", "the catalog did not price every line", "unpriced")
    priced = []
    for offset, ((line, _pid, price, product, discounts), quoted) in enumerate(
        zip(resolved, quote.lines, strict=True)
    ):
        by_id = {d.id: d for d in discounts}
        quoted_discounts = tuple(
            QuotedLineDiscount(
                q.discount_id,
                q.name or by_id[q.discount_id].name,
                q.amount,
                by_id[q.discount_id].approval_threshold_percent,
                by_id[q.discount_id].kind,
                by_id[q.discount_id].value,
            )
            for q in quoted.discounts
            if q.discount_id in by_id
        )
        order_line = OrderLine(
            id=keep_ids[offset] if keep_ids else new_id("oli"),
            product_id=product.id,
            price_id=quoted.price_id,
            price_version=quoted.price_version,
            quantity=line.quantity,
            unit_list_price=round_unit_price(quoted.unit_price),
            currency=currency,
            license_type=_license_type(product, price, line.license_type),
            term_months=line.term_months,
            discounts=tuple(repo.line_discount(d) for d in quoted_discounts),
            subscription_id=line.subscription_id,
            effective_date=line.effective_date,
            renewal=_renewal_policy(line.renewal),
            commitment_quantity=line.commitment_quantity,
            termination_fee_price_id=line.termination_fee_price_id,
        )
        pricing = LinePricing(
            product_sku=product.sku,
            product_name=product.name,
            product_kind=product.kind,
            product_vendor_id=product.vendor_id,
            charge_type=price.charge_type,
            billing_period=price.billing_period,
            billing_timing=price.timing,
            list_amount=quoted.list_amount,
            discount_amount=quoted.discount_amount,
            net_amount=quoted.net_amount,
            effective_percent_off=quoted.effective_percent_off,
            discounts=quoted_discounts,
        )
        priced.append((order_line, pricing))
    return PricedLines(priced, quote.id)


async def _check_fee_price(
    catalog: CatalogClient, price_id: str, currency: str, as_of: date, prefix: str, errors: FieldErrors
) -> None:
    name = f"{prefix}.termination_fee_price_id"
    fee = await catalog.get_price(price_id, as_of=as_of)
    if fee is None:
        errors.add(name, f"no price {price_id!r} in force on {as_of}", "unknown_price")
    elif fee.charge_type != "one_time":
        errors.add(name, f"a termination fee is a one-time charge, not {fee.charge_type}", "not_one_time")
    elif fee.currency != currency:
        errors.add(
            name, f"the price is in {fee.currency}; the account is billed in {currency}", "currency_mismatch"
        )


def _quote_errors(exc: CatalogRejected, first_index: int) -> list[Any]:
    errors = FieldErrors()
    for error in exc.errors:
        name = str(error.get("field") or "")
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit():
            name = ".".join(["lines", str(first_index + int(parts[1])), *parts[2:]])
        else:
            name = "lines"
        errors.add(
            name, str(error.get("message") or "refused by the catalog"), str(error.get("code") or "invalid")
        )
    if not errors.errors:
        errors.add("lines", exc.detail, "refused_by_catalog")
    return errors.errors


def _renewal_policy(renewal: s.RenewalIn | None) -> RenewalPolicy | None:
    if renewal is None:
        return None
    if renewal.policy is RenewalKind.AUTO_RENEW:
        return RenewalPolicy.auto_renew(renewal.months or 0)
    return RenewalPolicy.expire()


def _line_in(line: OrderLine) -> s.OrderLineIn:
    """The request that would price `line` again."""
    renewal = line.renewal
    return s.OrderLineIn.model_construct(
        price_id=line.price_id,
        quantity=line.quantity,
        discount_ids=[d.discount_id for d in line.discounts],
        term_months=line.term_months,
        effective_date=line.effective_date,
        subscription_id=line.subscription_id,
        license_type=line.license_type,
        renewal=s.RenewalIn.model_construct(policy=renewal.kind, months=renewal.months) if renewal else None,
        commitment_quantity=line.commitment_quantity,
        termination_fee_price_id=line.termination_fee_price_id,
    )


# ----- orders -------------------------------------------------------------------------------


async def _order_view(session: AsyncSession, stored: StoredOrder) -> s.OrderPublic:
    row = await session.get(SalesOrderRow, stored.order.id)
    currency = row.currency if row else (stored.order.currency or "USD")
    deal_row = (
        await session.get(DealRegistrationRow, stored.order.deal_registration_id)
        if stored.order.deal_registration_id
        else None
    )
    return views.order(stored, currency=currency, deal_row=deal_row)


async def create_order(
    *, uow: UnitOfWork, catalog: CatalogClient, command: s.OrderCreate, actor: str
) -> s.OrderPublic:
    """A draft order for an account, its lines priced by the catalog."""
    session = uow.session
    account = await repo.get_account(session, command.account_id)
    priced = await price_lines(
        session,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=command.kind,
        lines=command.lines,
    )
    order = SalesOrder.draft(
        customer_id=account.customer_id,
        account_id=account.id,
        kind=command.kind,
        lines=[p[0] for p in priced.lines],
    )
    stored = StoredOrder(order, {p[0].id: p[1] for p in priced.lines}, priced.quote_id)
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit("order.drafted", "order", order.id, command.model_dump(mode="json"))
    await uow.commit()
    return await _order_view(session, stored)


async def add_order_lines(
    *, uow: UnitOfWork, catalog: CatalogClient, order_id: str, command: s.OrderLinesAdd, actor: str
) -> s.OrderPublic:
    """Add priced lines to a draft order."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    order = stored.order
    if order.status is not OrderStatus.DRAFT:
        raise Conflict(f"Cannot add a line to an order that is {order.status.value}")
    account = await repo.get_account(session, order.account_id)
    priced = await price_lines(
        session,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=order.kind,
        lines=command.lines,
        first_index=len(order.lines),
    )
    for line, pricing in priced.lines:
        order.add_line(line)
        stored.pricing[line.id] = pricing
    stored.quote_id = priced.quote_id
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit("order.lines_added", "order", order.id, command.model_dump(mode="json"))
    await uow.commit()
    return await _order_view(session, stored)


async def remove_order_line(*, uow: UnitOfWork, order_id: str, line_id: str, actor: str) -> s.OrderPublic:
    """Remove a line from a draft order."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    stored.order.remove_line(line_id)
    stored.pricing.pop(line_id, None)
    account = await repo.get_account(session, stored.order.account_id)
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit("order.line_removed", "order", order_id, {"line_id": line_id})
    await uow.commit()
    return await _order_view(session, stored)


async def submit_order(
    *, uow: UnitOfWork, catalog: CatalogClient, order_id: str, actor: str
) -> s.OrderPublic:
    """Submit to contracts: re-price with one quote, then approve at once unless a discount
    exceeds its threshold (then finance approves)."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    order = stored.order
    if order.status is not OrderStatus.DRAFT:
        raise Conflict(f"Cannot submit an order that is {order.status.value}")
    account = await repo.get_account(session, order.account_id)
    # Prices may have moved since the draft: the order is pinned to what is in force now.
    priced = await price_lines(
        session,
        catalog,
        currency=account.currency,
        account_id=account.id,
        kind=order.kind,
        lines=[_line_in(line) for line in order.lines],
        keep_ids=[line.id for line in order.lines],
    )
    if priced.lines:
        order.lines = [p[0] for p in priced.lines]
        stored.pricing = {p[0].id: p[1] for p in priced.lines}
        stored.quote_id = priced.quote_id
    order.submit(by=actor)
    if order.status is OrderStatus.APPROVED:
        await _provision(uow, stored, account, actor)
    await repo.save_order(session, stored, currency=account.currency)
    uow.audit(
        "order.submitted",
        "order",
        order.id,
        {"approval_required": order.approval_required, "status": order.status.value},
    )
    _emit_all(uow, publishing.order_payloads(order), order.account_id)
    await uow.commit()
    return await _order_view(session, stored)


async def approve_order(*, uow: UnitOfWork, order_id: str, role: str, actor: str) -> s.OrderPublic:
    """Finance (or an admin) approves an order waiting for a discount approval."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    order = stored.order
    order.approve(by_role=role, by=actor)
    account = await repo.get_account(session, order.account_id)
    await _provision(uow, stored, account, actor)
    await repo.save_order(session, stored, currency=account.currency)
    payloads = publishing.order_payloads(order)
    await _commit_change(
        uow, "order.approved", ("order", order.id), {"approved_by": actor}, payloads, order.account_id
    )
    return await _order_view(session, stored)


async def cancel_order(*, uow: UnitOfWork, order_id: str, reason: str | None, actor: str) -> s.OrderPublic:
    """Withdraw a draft or submitted order."""
    session = uow.session
    stored = await repo.get_order(session, order_id, for_update=True)
    stored.order.cancel(by=actor, reason=reason)
    account = await repo.get_account(session, stored.order.account_id)
    await repo.save_order(session, stored, currency=account.currency)
    payloads = publishing.order_payloads(stored.order)
    await _commit_change(
        uow, "order.cancelled", ("order", order_id), {"reason": reason}, payloads, stored.order.account_id
    )
    return await _order_view(session, stored)


async def _provision(uow: UnitOfWork, stored: StoredOrder, account: Account, actor: str) -> None:
    """What an approval sets going: workflows and pending subscriptions, or amendments."""
    order = stored.order
    if order.kind is OrderKind.AMENDMENT:
        await _apply_amendment(uow, order, actor)
        order.mark_fulfilled(by=actor)
        return
    started_on = today()
    for line in order.lines:
        pricing = stored.pricing.get(line.id, LinePricing())
        if pricing.charge_type not in SUBSCRIPTION_CHARGE_TYPES:
            continue
        term_start = line.effective_date or started_on
        subscription = Subscription.create(
            account_id=order.account_id,
            product_id=line.product_id,
            price_id=line.price_id,
            price_version=line.price_version,
            quantity=line.quantity,
            license_type=line.license_type,
            term_start=term_start,
            term_end=add_months(term_start, line.term_months or DEFAULT_TERM_MONTHS),
            renewal=line.renewal_policy,
            commitment_quantity=line.committed_quantity,
            order_id=order.id,
            termination_fee_price_id=line.termination_fee_price_id,
        )
        sub_stored = StoredSubscription(
            subscription,
            currency=line.currency,
            unit_price=line.unit_list_price,
            discount_percent=line.effective_discount_percent,
            charge_type=pricing.charge_type,
            billing_period=pricing.billing_period,
            billing_timing=pricing.billing_timing,
            order_line_id=line.id,
        )
        await repo.save_subscription(uow.session, sub_stored)
        template = template_for(product_kind=provisioning_kind(pricing), sku=pricing.product_sku)
        workflow = Workflow.start(
            template,
            order_id=order.id,
            account_id=order.account_id,
            subscription_id=subscription.id,
            started_on=started_on,
            by=actor,
        )
        await repo.save_workflow(uow.session, StoredWorkflow(workflow, line.id))
        uow.audit("subscription.created", "subscription", subscription.id, {"order_line_id": line.id})
        uow.audit("workflow.started", "workflow", workflow.id, {"template": template.name})
        _emit_all(uow, publishing.workflow_payloads(workflow), order.account_id)


def provisioning_kind(pricing: LinePricing) -> str | None:
    """The kind of provisioning a product needs: a product bought from a vendor is resold seats."""
    # The catalog says what a product is (license, workshop, …); whether it is resold shows in
    # its vendor. Resold seats need the vendor paperwork workflow (seed 000).
    return "resold_seats" if pricing.product_vendor_id else pricing.product_kind


async def _apply_amendment(uow: UnitOfWork, order: SalesOrder, actor: str) -> None:
    errors = FieldErrors()
    for index, line in enumerate(order.lines):
        assert line.subscription_id and line.effective_date
        stored = await repo.get_subscription(uow.session, line.subscription_id, for_update=True)
        sub = stored.subscription
        try:
            if line.quantity != sub.quantity:
                sub.change_quantity(line.quantity, effective=line.effective_date, by=actor)
            if line.term_months is not None:
                new_end = add_months(sub.term_start, line.term_months)
                if new_end != sub.term_end:
                    sub.change_term(new_term_end=new_end, effective=line.effective_date, by=actor)
        except ValidationFailed as exc:
            for error in exc.errors:
                errors.add(f"lines.{index}.{error.field}", error.message, error.code)
            continue
        await repo.save_subscription(uow.session, stored)
        uow.audit("subscription.amended", "subscription", sub.id, {"order_id": order.id})
        _emit_all(uow, publishing.subscription_payloads(stored), sub.account_id)
    errors.raise_if_any("The amendment cannot be applied")


async def get_order(*, session: AsyncSession, order_id: str) -> s.OrderPublic:
    """One order with its priced lines."""
    return await _order_view(session, await repo.get_order(session, order_id))


async def list_orders(
    *, session: AsyncSession, page: PageRequest, account_id: str | None, status: str | None
) -> Page[Any]:
    """A page of orders."""
    stmt = _filtered(SalesOrderRow, account_id=account_id, status=status)
    return await _page_of_aggregates(
        session, stmt, SalesOrderRow.id, page, lambda i: get_order(session=session, order_id=i)
    )


async def order_commitments(*, session: AsyncSession, order_id: str) -> s.CommitmentsPublic:
    """Committed, launched and remaining licenses per committed line."""
    stored = await repo.get_order(session, order_id)
    balances = committed_balances(stored.order, await repo.fulfillments_of_order(session, order_id))
    return views.commitments(order_id, list(balances.values()))


# ----- workflows and tasks ------------------------------------------------------------------


async def _load_task(uow: UnitOfWork, task_id: str) -> tuple[StoredWorkflow, str]:
    workflow_id = await repo.workflow_id_of_task(uow.session, task_id)
    stored = await repo.get_workflow(uow.session, workflow_id, for_update=True)
    key = next(t.key for t in stored.workflow.tasks if t.id == task_id)
    return stored, key


async def _save_task_change(
    uow: UnitOfWork, stored: StoredWorkflow, task_id: str, action: str
) -> s.TaskPublic:
    await repo.save_workflow(uow.session, stored)
    wf = stored.workflow
    task = next(t for t in wf.tasks if t.id == task_id)
    changes = {"workflow_id": wf.id, "state": task.state.value, "assignee": task.assignee}
    await _commit_change(
        uow, action, ("task", task_id), changes, publishing.workflow_payloads(wf), wf.account_id
    )
    return views.task(wf.id, task, today())


async def start_task(*, uow: UnitOfWork, task_id: str, actor: str) -> s.TaskPublic:
    """open → in_progress once the steps before it are done."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.start_task(key, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.started")


async def block_task(*, uow: UnitOfWork, task_id: str, reason: str, actor: str) -> s.TaskPublic:
    """open or in_progress → blocked."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.block_task(key, reason=reason, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.blocked")


async def unblock_task(*, uow: UnitOfWork, task_id: str, actor: str) -> s.TaskPublic:
    """blocked → open."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.unblock_task(key, by=actor)
    return await _save_task_change(uow, stored, task_id, "task.unblocked")


async def assign_task(*, uow: UnitOfWork, task_id: str, assignee: str, actor: str) -> s.TaskPublic:
    """Give a task to someone."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.assign(key, assignee)
    return await _save_task_change(uow, stored, task_id, "task.assigned")


async def add_task_note(*, uow: UnitOfWork, task_id: str, text: str, actor: str) -> s.TaskPublic:
    """Append a note to a task."""
    stored, key = await _load_task(uow, task_id)
    stored.workflow.add_note(key, text, by=actor, at=utcnow())
    return await _save_task_change(uow, stored, task_id, "task.noted")


async def complete_task(
    *, uow: UnitOfWork, task_id: str, completed_on: date | None, actor: str
) -> s.TaskPublic:
    """in_progress → done; the last task completes the workflow and activates the subscription."""
    stored, key = await _load_task(uow, task_id)
    wf = stored.workflow
    on = completed_on or today()
    if on < wf.started_on:
        raise ValidationFailed.single(
            "completed_on", f"must not be before the workflow started on {wf.started_on}"
        )
    wf.complete_task(key, on=on, by=actor)
    if wf.status is WorkflowStatus.COMPLETED:
        await _workflow_completed(uow, wf, on, actor)
    return await _save_task_change(uow, stored, task_id, "task.completed")


async def _workflow_completed(uow: UnitOfWork, wf: Workflow, on: date, actor: str) -> None:
    session = uow.session
    if wf.subscription_id is not None:
        stored = await repo.get_subscription(session, wf.subscription_id, for_update=True)
        sub = stored.subscription
        if sub.state in {SubscriptionState.PENDING, SubscriptionState.TRIAL}:
            # Provisioned ahead of the contract start: billing starts with the term.
            sub.activate(effective=max(on, sub.term_start), by=actor)
            await repo.save_subscription(session, stored)
            uow.audit("subscription.activated", "subscription", sub.id, {"workflow_id": wf.id})
            _emit_all(uow, publishing.subscription_payloads(stored), sub.account_id)
    await repo.save_workflow(session, StoredWorkflow(wf))
    await session.flush()
    others = await repo.workflows_of_order(session, wf.order_id)
    if all(w.status == WorkflowStatus.COMPLETED.value for w in others):
        order_stored = await repo.get_order(session, wf.order_id, for_update=True)
        if order_stored.order.status is OrderStatus.APPROVED:
            order_stored.order.mark_fulfilled(by=actor)
            row = await session.get(SalesOrderRow, wf.order_id)
            await repo.save_order(session, order_stored, currency=row.currency if row else "USD")
            uow.audit("order.fulfilled", "order", wf.order_id, {})
            _emit_all(uow, publishing.order_payloads(order_stored.order), order_stored.order.account_id)


async def get_workflow(*, session: AsyncSession, workflow_id: str) -> s.WorkflowPublic:
    """One workflow with its tasks."""
    return views.workflow((await repo.get_workflow(session, workflow_id)).workflow, today())


async def list_workflows(
    *,
    session: AsyncSession,
    page: PageRequest,
    order_id: str | None,
    account_id: str | None,
    status: str | None,
) -> Page[Any]:
    """A page of workflows."""
    stmt = _filtered(WorkflowRow, order_id=order_id, account_id=account_id, status=status)
    return await _page_of_aggregates(
        session, stmt, WorkflowRow.id, page, lambda i: get_workflow(session=session, workflow_id=i)
    )


async def get_task(*, session: AsyncSession, task_id: str) -> s.TaskPublic:
    """One task."""
    row = await session.get(WorkflowTaskRow, task_id)
    if row is None:
        raise NotFound("task", task_id)
    return views.task(row.workflow_id, repo.task_from_row(row), today())


async def list_tasks(
    *,
    session: AsyncSession,
    page: PageRequest,
    overdue: bool | None,
    as_of: date | None,
    owner_team: str | None,
    state: TaskState | None,
    assignee: str | None,
    workflow_id: str | None,
) -> Page[Any]:
    """A page of tasks; `overdue=true` keeps those not done by their due date."""
    day = as_of or today()
    stmt = _filtered(
        WorkflowTaskRow,
        owner_team=owner_team,
        state=state.value if state else None,
        assignee=assignee,
        workflow_id=workflow_id,
    )
    if overdue is not None:
        late = (col(WorkflowTaskRow.state) != TaskState.DONE.value) & (col(WorkflowTaskRow.due_date) < day)
        stmt = stmt.where(late if overdue else ~late)
    return await paginate(
        session,
        stmt,
        WorkflowTaskRow.id,
        page,
        lambda r: views.task(r.workflow_id, repo.task_from_row(r), day),
    )


# ----- subscriptions ------------------------------------------------------------------------


async def _subscription_change(
    uow: UnitOfWork, stored: StoredSubscription, action: str, changes: dict[str, Any]
) -> s.SubscriptionPublic:
    await repo.save_subscription(uow.session, stored)
    sub = stored.subscription
    payloads = publishing.subscription_payloads(stored)
    await _commit_change(uow, action, ("subscription", sub.id), changes, payloads, sub.account_id)
    return views.subscription(stored)


async def suspend_subscription(
    *, uow: UnitOfWork, subscription_id: str, command: s.SubscriptionAction, actor: str
) -> s.SubscriptionPublic:
    """active → suspended."""
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    stored.subscription.suspend(effective=command.effective_date or today(), by=actor, reason=command.reason)
    return await _subscription_change(uow, stored, "subscription.suspended", command.model_dump(mode="json"))


async def resume_subscription(
    *, uow: UnitOfWork, subscription_id: str, command: s.SubscriptionAction, actor: str
) -> s.SubscriptionPublic:
    """suspended → active."""
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    stored.subscription.resume(effective=command.effective_date or today(), by=actor)
    return await _subscription_change(uow, stored, "subscription.resumed", command.model_dump(mode="json"))


async def cancel_subscription(
    *,
    uow: UnitOfWork,
    catalog: CatalogClient,
    subscription_id: str,
    command: s.SubscriptionAction,
    actor: str,
) -> s.SubscriptionPublic:
    """active or suspended → cancelled from the effective date.

    Ending a committed term early with an agreed fee price charges the fee, quoted by the catalog
    now for the committed quantity (a flat price is one fee, a per-unit price one per committed
    unit), and puts it on `subscription.cancelled` for invoicing to bill.
    """
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    sub = stored.subscription
    effective = command.effective_date or today()
    fee = await _termination_fee(catalog, stored) if sub.termination_fee_due(effective) else None
    sub.cancel(effective=effective, by=actor, reason=command.reason, termination_fee=fee)
    return await _subscription_change(uow, stored, "subscription.cancelled", command.model_dump(mode="json"))


async def _termination_fee(catalog: CatalogClient, stored: StoredSubscription) -> TerminationFee:
    sub = stored.subscription
    assert sub.termination_fee_price_id is not None
    try:
        quote = await catalog.quote(
            currency=stored.currency,
            as_of=today(),
            items=[QuoteItem(sub.termination_fee_price_id, sub.commitment_quantity)],
        )
    except CatalogRejected as exc:
        raise Conflict(
            f"The termination fee price {sub.termination_fee_price_id!r} cannot be priced: {exc.detail}"
        ) from None
    if len(quote.lines) != 1:
        raise Conflict("The catalog did not price the termination fee")
    quoted = quote.lines[0]
    return TerminationFee(
        price_id=quoted.price_id,
        price_version=quoted.price_version,
        amount=round_money(quoted.net_amount, stored.currency),
        currency=stored.currency,
    )


async def change_subscription(
    *, uow: UnitOfWork, subscription_id: str, command: s.SubscriptionChange, actor: str
) -> s.SubscriptionPublic:
    """Change quantity and/or term end from an effective date (both checked before either applies)."""
    if command.quantity is None and command.term_end is None:
        raise ValidationFailed.single("quantity", "send a new quantity or a new term_end", "required")
    if command.quantity is not None and command.quantity > MAX_LINE_QUANTITY:
        raise ValidationFailed.single("quantity", f"must be at most {MAX_LINE_QUANTITY}")
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    sub = stored.subscription
    if command.quantity is not None:
        sub.change_quantity(command.quantity, effective=command.effective_date, by=actor)
    if command.term_end is not None:
        sub.change_term(new_term_end=command.term_end, effective=command.effective_date, by=actor)
    return await _subscription_change(uow, stored, "subscription.changed", command.model_dump(mode="json"))


async def get_subscription(*, session: AsyncSession, subscription_id: str) -> s.SubscriptionPublic:
    """One subscription."""
    return views.subscription(await repo.get_subscription(session, subscription_id))


async def subscription_history(
    *, session: AsyncSession, subscription_id: str, page: PageRequest
) -> Page[Any]:
    """A subscription's change history, oldest first."""
    await repo.get_subscription(session, subscription_id)
    stmt = select(SubscriptionChangeRow).where(SubscriptionChangeRow.subscription_id == subscription_id)
    return await paginate(session, stmt, SubscriptionChangeRow.id, page, views.history_entry)


async def list_subscriptions(
    *,
    session: AsyncSession,
    page: PageRequest,
    account_id: str | None,
    state: str | None,
    order_id: str | None,
) -> Page[Any]:
    """A page of subscriptions."""
    stmt = _filtered(SubscriptionRow, account_id=account_id, state=state, order_id=order_id)
    return await _page_of_aggregates(
        session,
        stmt,
        SubscriptionRow.id,
        page,
        lambda i: get_subscription(session=session, subscription_id=i),
    )


async def process_term_ends(*, uow: UnitOfWork, as_of: date, actor: str) -> s.TermEndsPublic:
    """Renew or expire every active subscription whose term ended by `as_of`.

    Works through the due subscriptions a chunk at a time (two reads and a few set writes per
    chunk), each chunk committed on its own with its events, so a long run holds no long lock and
    an interrupted run is finished by running it again; a second run for a date changes nothing.
    """
    session = uow.session
    outcomes: Counter[TermOutcome] = Counter()
    after = ""
    while chunk := await repo.subscriptions_at_term_end(session, as_of, after=after, limit=TERM_END_CHUNK):
        for stored in chunk:
            sub = stored.subscription
            outcome = sub.process_term_ends(as_of=as_of, by=actor)
            if outcome is None:
                continue
            outcomes[outcome] += 1
            uow.audit(
                f"subscription.{outcome.value}",
                "subscription",
                sub.id,
                {"as_of": as_of.isoformat(), "term_end": sub.term_end.isoformat()},
            )
            _emit_all(uow, publishing.subscription_payloads(stored), sub.account_id)
        await repo.save_subscriptions(session, chunk)
        await uow.commit()
        after = chunk[-1].subscription.id
    return s.TermEndsPublic(
        as_of=as_of, renewed=outcomes[TermOutcome.RENEWED], expired=outcomes[TermOutcome.EXPIRED]
    )


# ----- collections --------------------------------------------------------------------------


async def apply_collections_request(*, uow: UnitOfWork, request: CollectionsRequest, suspend: bool) -> int:
    """Suspend (or resume) every active (or suspended) subscription of the account.

    The change takes effect on the account's local date of the request. An unknown account
    changes nothing: collections may know accounts this service never provisioned.
    """
    session = uow.session
    account_row = await session.get(AccountRow, request.account_id)
    if account_row is None:
        log.warning("collections.unknown_account", account_id=request.account_id)
        return 0
    effective = local_date(request.requested_at, account_row.time_zone)
    state = SubscriptionState.ACTIVE if suspend else SubscriptionState.SUSPENDED
    changed = 0
    for stored in await repo.subscriptions_of_account(session, request.account_id, {state}):
        sub = stored.subscription
        if suspend:
            sub.suspend(effective=effective, by="collections", reason=request.reason)
        else:
            sub.resume(effective=effective, by="collections")
        await repo.save_subscription(session, stored)
        uow.audit(
            "subscription.suspended" if suspend else "subscription.resumed",
            "subscription",
            sub.id,
            {"reason": request.reason, "requested_at": request.requested_at.isoformat()},
        )
        _emit_all(uow, publishing.subscription_payloads(stored), sub.account_id)
        changed += 1
    await uow.commit()
    return changed


# ----- fulfillments -------------------------------------------------------------------------


def _quantities(lines: Sequence[s.FulfillmentLineIn]) -> dict[str, Decimal]:
    errors = FieldErrors()
    quantities: dict[str, Decimal] = {}
    for index, line in enumerate(lines):
        if line.order_line_id in quantities:
            errors.add(f"lines.{index}.order_line_id", "appears twice", "duplicate")
        elif line.quantity > MAX_LINE_QUANTITY:
            errors.add(f"lines.{index}.quantity", f"must be at most {MAX_LINE_QUANTITY}")
        quantities[line.order_line_id] = line.quantity
    errors.raise_if_any("The fulfillment lines are invalid")
    return quantities


async def _emit_fulfillment(
    uow: UnitOfWork, stored: StoredFulfillment, action: str, changes: dict[str, Any]
) -> s.FulfillmentPublic:
    await repo.save_fulfillment(uow.session, stored)
    f = stored.fulfillment
    await _commit_change(
        uow, action, ("fulfillment", f.id), changes, publishing.fulfillment_payloads(f), f.account_id
    )
    return views.fulfillment(stored)


async def record_fulfillment(
    *, uow: UnitOfWork, command: s.FulfillmentCreate, actor: str
) -> s.FulfillmentPublic:
    """Record launches (scheduled) or deliveries (completed) against an order's lines."""
    session = uow.session
    quantities = _quantities(command.lines)
    # Locking the order serialises fulfillments of one commitment.
    order = (await repo.get_order(session, command.order_id, for_update=True)).order
    balances = committed_balances(order, await repo.fulfillments_of_order(session, order.id))
    if command.status is FulfillmentStatus.CANCELLED:
        raise ValidationFailed.single("status", "a fulfillment is recorded as scheduled or completed")
    if command.status is FulfillmentStatus.COMPLETED:
        fulfillment = Fulfillment.record_completed(
            order,
            quantities,
            balances=balances,
            associated_project_id=command.associated_project_id,
            on=command.completed_on or today(),
            by=actor,
        )
    else:
        fulfillment = Fulfillment.schedule(
            order,
            quantities,
            balances=balances,
            associated_project_id=command.associated_project_id,
            by=actor,
        )
    return await _emit_fulfillment(
        uow, StoredFulfillment(fulfillment), "fulfillment.recorded", command.model_dump(mode="json")
    )


async def _load_fulfillment(uow: UnitOfWork, fulfillment_id: str) -> tuple[StoredFulfillment, SalesOrder]:
    stored = await repo.get_fulfillment(uow.session, fulfillment_id)
    order = (await repo.get_order(uow.session, stored.fulfillment.order_id, for_update=True)).order
    stored = await repo.get_fulfillment(uow.session, fulfillment_id, for_update=True)
    return stored, order


async def update_fulfillment(
    *, uow: UnitOfWork, fulfillment_id: str, command: s.FulfillmentUpdate, actor: str
) -> s.FulfillmentPublic:
    """New quantities while scheduled (a cohort of 10 becomes 12)."""
    quantities = _quantities(command.lines)
    stored, order = await _load_fulfillment(uow, fulfillment_id)
    balances = committed_balances(order, await repo.fulfillments_of_order(uow.session, order.id))
    errors = FieldErrors()
    for line_id in quantities:
        if all(line.order_line_id != line_id for line in stored.fulfillment.lines):
            errors.add(f"lines.{line_id}", "is not a line of this fulfillment", "unknown_line")
    errors.raise_if_any("The fulfillment cannot be updated")
    for line_id, quantity in quantities.items():
        stored.fulfillment.update_quantity(line_id, quantity, balances=balances)
    return await _emit_fulfillment(uow, stored, "fulfillment.updated", command.model_dump(mode="json"))


async def complete_fulfillment(
    *, uow: UnitOfWork, fulfillment_id: str, completed_on: date | None, actor: str
) -> s.FulfillmentPublic:
    """scheduled → completed: one `fulfillment.completed` with every line's billable quantity."""
    stored, _ = await _load_fulfillment(uow, fulfillment_id)
    stored.fulfillment.complete(on=completed_on or today(), by=actor)
    return await _emit_fulfillment(uow, stored, "fulfillment.completed", {"completed_on": str(completed_on)})


async def cancel_fulfillment(*, uow: UnitOfWork, fulfillment_id: str, actor: str) -> s.FulfillmentPublic:
    """scheduled → cancelled; committed launches are given back."""
    stored, order = await _load_fulfillment(uow, fulfillment_id)
    balances = committed_balances(order, await repo.fulfillments_of_order(uow.session, order.id))
    stored.fulfillment.cancel(balances=balances, by=actor)
    return await _emit_fulfillment(uow, stored, "fulfillment.cancelled", {})


async def get_fulfillment(*, session: AsyncSession, fulfillment_id: str) -> s.FulfillmentPublic:
    """One fulfillment."""
    return views.fulfillment(await repo.get_fulfillment(session, fulfillment_id))


async def list_fulfillments(
    *, session: AsyncSession, page: PageRequest, order_id: str | None, status: str | None
) -> Page[Any]:
    """A page of fulfillments."""
    stmt = _filtered(FulfillmentRow, order_id=order_id, status=status)
    return await _page_of_aggregates(
        session, stmt, FulfillmentRow.id, page, lambda i: get_fulfillment(session=session, fulfillment_id=i)
    )


# ----- named users --------------------------------------------------------------------------


async def create_pool(*, uow: UnitOfWork, command: s.PoolCreate, actor: str) -> s.PoolPublic:
    """A named-user pool for an account."""
    await repo.get_account(uow.session, command.account_id)
    if command.subscription_id is not None:
        sub = await repo.get_subscription(uow.session, command.subscription_id)
        if sub.subscription.account_id != command.account_id:
            raise ValidationFailed.single("subscription_id", "is not a subscription of this account")
    pool = NamedUserPool.create(
        account_id=command.account_id,
        size=command.size,
        programs_per_user=command.programs_per_user,
        contract_programs=command.contract_programs,
        contract_start=command.contract_start,
        transfer_percent=command.transfer_percent,
        subscription_id=command.subscription_id,
    )
    stored = StoredPool(pool)
    await repo.save_pool(uow.session, stored)
    await _commit_change(
        uow,
        "named_user_pool.created",
        ("named_user_pool", pool.id),
        command.model_dump(mode="json"),
        publishing.pool_payloads(pool),
        pool.account_id,
    )
    return views.pool(stored)


async def assign_named_user(
    *, uow: UnitOfWork, pool_id: str, command: s.AssignmentCreate, actor: str
) -> tuple[s.AssignmentPublic, bool]:
    """Give a user programs: refused over the pool size or the per-user program limit.

    Also tells whether anything changed: assigning programs the user already holds is a no-op
    (no event, no audit record).
    """
    stored = await repo.get_pool(uow.session, pool_id, for_update=True)
    changed = stored.pool.assign(command.user_id, command.programs, by=actor)
    assignment = s.AssignmentPublic(
        pool_id=pool_id, user_id=command.user_id, programs=sorted(stored.pool.programs_of(command.user_id))
    )
    if not changed:
        return assignment, False
    await repo.save_pool(uow.session, stored, changed_users={command.user_id})
    await _commit_change(
        uow,
        "named_user.assigned",
        ("named_user_pool", pool_id),
        command.model_dump(mode="json"),
        publishing.pool_payloads(stored.pool),
        stored.pool.account_id,
    )
    return assignment, True


async def transfer_named_user(
    *, uow: UnitOfWork, pool_id: str, command: s.TransferCreate, actor: str
) -> s.TransferPublic:
    """Move a seat to another person, within the contract year's allowance."""
    stored = await repo.get_pool(uow.session, pool_id, for_update=True)
    pool = stored.pool
    pool.transfer(command.from_user, command.to_user, on_date=command.on_date, by=actor)
    await repo.save_pool(uow.session, stored, changed_users={command.from_user, command.to_user})
    await _commit_change(
        uow,
        "named_user.transferred",
        ("named_user_pool", pool_id),
        command.model_dump(mode="json"),
        publishing.pool_payloads(pool),
        pool.account_id,
    )
    transfer = pool.transfers[-1]
    return s.TransferPublic(
        pool_id=pool_id,
        from_user=transfer.from_user,
        to_user=transfer.to_user,
        on_date=transfer.on_date,
        contract_year=transfer.contract_year,
        transfers_remaining=pool.transfers_remaining(command.on_date),
    )


async def get_pool(*, session: AsyncSession, pool_id: str) -> s.PoolPublic:
    """One pool with its usage."""
    return views.pool(await repo.get_pool(session, pool_id))


async def list_pools(*, session: AsyncSession, page: PageRequest, account_id: str | None) -> Page[Any]:
    """A page of pools."""
    stmt = _filtered(NamedUserPoolRow, account_id=account_id)
    return await _page_of_aggregates(
        session, stmt, NamedUserPoolRow.id, page, lambda i: get_pool(session=session, pool_id=i)
    )


async def list_assignments(*, session: AsyncSession, pool_id: str, page: PageRequest) -> Page[Any]:
    """A page of a pool's named users, by user id."""
    await repo.get_pool(session, pool_id)
    stmt = select(NamedUserAssignmentRow).where(NamedUserAssignmentRow.pool_id == pool_id)
    return await paginate(
        session,
        stmt,
        NamedUserAssignmentRow.user_id,
        page,
        lambda r: s.AssignmentPublic(
            pool_id=r.pool_id, user_id=r.user_id, programs=sorted(json.loads(r.programs))
        ),
    )
