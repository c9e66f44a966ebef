"""Use cases of partners and deal registrations, up to converting a deal into an order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.pagination import Page, PageRequest
from provisioning.catalog_client import CatalogClient
from provisioning.domain.deals import (
    AgreementContact,
    DealRegistration,
    DealStatus,
    LicensingDetails,
    Partner,
    RequestedDiscount,
)
from provisioning.domain.orders import OrderKind
from provisioning.handlers.common import field_errors, public_page
from provisioning.handlers.customers import billing_profile_of
from provisioning.handlers.orders import submit_order
from provisioning.handlers.pricing import price_lines
from provisioning.handlers.records import StoredOrder
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.customers import account_public, customer_public
from provisioning.schemas.deals import (
    DealConversionPublic,
    DealConvert,
    DealFields,
    DealRegistrationCreate,
    DealRegistrationPublic,
    DealRegistrationUpdate,
    PartnerCreate,
    PartnerPublic,
    deal_public,
    partner_public,
)
from provisioning.schemas.orders import OrderPublic, order_public


async def enrol_partner(*, uow: ProvisioningUnitOfWork, command: PartnerCreate, actor: str) -> PartnerPublic:
    """Add a partner."""
    partner = Partner.enrol(command.name, contact_email=command.contact_email)
    await uow.deals.add_partner(partner)
    uow.audit("partner.enrolled", "partner", partner.id, command.model_dump(mode="json"))
    await uow.commit()
    return partner_public(partner)


async def get_partner(*, uow: ProvisioningUnitOfWork, partner_id: str) -> PartnerPublic:
    """One partner."""
    return partner_public(await uow.deals.get_partner(partner_id))


async def list_partners(*, uow: ProvisioningUnitOfWork, page: PageRequest) -> Page[PartnerPublic]:
    """A page of partners."""
    return public_page(await uow.deals.partners_page(page), partner_public)


def _deal_changes(deal: DealRegistration, fields: DealFields) -> dict[str, Any]:
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
    *, uow: ProvisioningUnitOfWork, command: DealRegistrationCreate, actor: str
) -> DealRegistrationPublic:
    """A partner registers an opportunity; details may follow."""
    partner = await uow.deals.get_partner(command.partner_id)
    deal = DealRegistration.register(partner, command.opportunity_name, by=actor)
    changes = _deal_changes(deal, command)
    if changes:
        deal.update(**changes)
    await uow.deals.save_deal(deal)
    uow.audit("deal.registered", "deal_registration", deal.id, command.model_dump(mode="json"))
    await uow.commit()
    return deal_public(deal)


async def update_deal(
    *, uow: ProvisioningUnitOfWork, deal_id: str, command: DealRegistrationUpdate, actor: str
) -> DealRegistrationPublic:
    """Fill in or change a registration's details (refused once converted)."""
    deal = await uow.deals.get_deal(deal_id, for_update=True)
    changes = _deal_changes(deal, command)
    if "opportunity_name" in changes and not (changes["opportunity_name"] or "").strip():
        raise ValidationFailed.single("opportunity_name", "is required", "required")
    deal.update(**changes)
    await uow.deals.save_deal(deal)
    uow.audit(
        "deal.updated", "deal_registration", deal.id, command.model_dump(mode="json", exclude_unset=True)
    )
    await uow.commit()
    return deal_public(deal)


async def get_deal(*, uow: ProvisioningUnitOfWork, deal_id: str) -> DealRegistrationPublic:
    """One registration with its checklist."""
    return deal_public(await uow.deals.get_deal(deal_id))


async def list_deals(
    *, uow: ProvisioningUnitOfWork, page: PageRequest, partner_id: str | None, status: DealStatus | None
) -> Page[DealRegistrationPublic]:
    """A page of registrations."""
    return public_page(await uow.deals.deals_page(page, partner_id=partner_id, status=status), deal_public)


async def convert_deal(
    *, uow: ProvisioningUnitOfWork, catalog: CatalogClient, deal_id: str, command: DealConvert, actor: str
) -> DealConversionPublic:
    """Convert a registration into a customer, an account and a draft order, all at once.

    Every missing mandatory field is reported in one 422; the order's lines are priced by the
    catalog, their term defaulting to the deal's licensing period.
    """
    deal = await uow.deals.get_deal(deal_id, for_update=True)
    # Validate the deal before calling the catalog: an incomplete deal needs no prices.
    problems = deal.problems()
    if deal.status.value != "registered":
        raise Conflict(f"Cannot convert a deal registration that is {deal.status.value}")
    if problems:
        raise ValidationFailed("The deal registration is incomplete", field_errors(problems))
    lic = deal.licensing
    assert lic.currency and lic.start_date and lic.end_date
    lines_in = [
        line.model_copy(
            update={
                "effective_date": line.effective_date or lic.start_date,
                "term_months": line.term_months or lic.term_months(),
            }
        )
        for line in command.lines
    ]
    profile = billing_profile_of(command.billing_profile) if command.billing_profile else None
    currency = profile.currency if profile else lic.currency
    priced = await price_lines(
        uow, catalog, currency=currency, account_id=None, kind=OrderKind.NEW, lines=lines_in
    )
    conversion = deal.convert(billing_profile=profile, lines=[p[0] for p in priced.lines], by=actor)
    await uow.customers.add_customer(conversion.customer)
    await uow.customers.save_account(conversion.account)
    stored = StoredOrder(
        conversion.order, conversion.account.currency, {p[0].id: p[1] for p in priced.lines}, priced.quote_id
    )
    await uow.orders.save(stored)
    await uow.deals.save_deal(deal)
    uow.audit("deal.converted", "deal_registration", deal.id, {"order_id": conversion.order.id})
    uow.audit("customer.registered", "customer", conversion.customer.id, {"name": conversion.customer.name})
    uow.audit("account.opened", "account", conversion.account.id, {"currency": conversion.account.currency})
    uow.audit("order.drafted", "order", conversion.order.id, {"lines": len(conversion.order.lines)})
    await uow.commit()
    return DealConversionPublic(
        deal_registration=deal_public(deal),
        customer=customer_public(conversion.customer),
        account=account_public(conversion.account),
        order=order_public(stored, deal=deal),
    )


async def submit_deal(
    *, uow: ProvisioningUnitOfWork, catalog: CatalogClient, deal_id: str, actor: str
) -> OrderPublic:
    """ "Submit to contracts": submit the order the deal was converted into."""
    deal = await uow.deals.get_deal(deal_id)
    if deal.order_id is None:
        raise Conflict("Cannot submit a deal registration that is not converted yet")
    return await submit_order(uow=uow, catalog=catalog, order_id=deal.order_id, actor=actor)
