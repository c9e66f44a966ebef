"""Deal registrations: partners fill them in, conversion checks every mandatory field once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from libs.platform.errors import Conflict, ValidationFailed
from provisioning.domain.deals import (
    AgreementContact,
    DealConverted,
    DealLicenseType,
    DealRegistration,
    DealStatus,
    LicensingDetails,
    Partner,
    RequestedDiscount,
)
from provisioning.domain.orders import OrderStatus

from .factories import CLERK, billing_profile, complete_registration, line, partner


def fields(error: ValidationFailed) -> set[str]:
    """The field names a 422 would list."""
    return {e.field for e in error.errors}


def test_converting_makes_a_customer_an_account_and_a_draft_order() -> None:
    registration = complete_registration(
        discounts_requested=(RequestedDiscount("launch promotion", Decimal(15)),)
    )
    result = registration.convert(lines=[line()], by=CLERK)

    assert result.customer.name == "Redfin"
    assert result.customer.partner_id == registration.partner_id
    assert result.account.customer_id == result.customer.id
    assert result.account.currency == "USD"
    assert result.account.billing_profile.contacts[0].email == "jo@redfin.example"
    assert result.order.status is OrderStatus.DRAFT
    assert result.order.account_id == result.account.id
    assert result.order.deal_registration_id == registration.id
    assert result.order.requested_discounts_note == "launch promotion: 15%"
    assert registration.status is DealStatus.CONVERTED
    assert registration.events == [
        DealConverted(
            registration.id,
            registration.partner_id,
            result.customer.id,
            result.account.id,
            result.order.id,
            CLERK,
        )
    ]


def test_an_empty_registration_lists_every_missing_field_at_once() -> None:
    registration = DealRegistration.register(partner(), "Redfin rollout", by="usr_partner")
    with pytest.raises(ValidationFailed) as caught:
        registration.convert(by=CLERK)
    assert fields(caught.value) == {
        "opportunity_details",
        "customer_company_name",
        "project_description",
        "agreement_contact.name",
        "agreement_contact.email",
        "licensing.currency",
        "licensing.license_type",
        "licensing.start_date",
        "licensing.end_date",
    }
    assert all(e.code == "required" for e in caught.value.errors)
    assert registration.status is DealStatus.REGISTERED


def test_invalid_values_are_reported_together() -> None:
    registration = complete_registration(
        agreement_contact=AgreementContact("Jo Buyer", "jo-at-redfin"),
        licensing=LicensingDetails(
            currency="usd",
            license_type=DealLicenseType.RENEWAL,
            start_date=date(2026, 3, 1),
            end_date=date(2026, 3, 1),
        ),
        discounts_requested=(RequestedDiscount("", Decimal(0)),),
    )
    with pytest.raises(ValidationFailed) as caught:
        registration.convert(by=CLERK)
    assert fields(caught.value) == {
        "agreement_contact.email",
        "licensing.currency",
        "licensing.license_type",
        "licensing.end_date",
        "discounts_requested.0.description",
        "discounts_requested.0.percent",
    }


def test_problems_gives_the_checklist_without_raising() -> None:
    registration = complete_registration(project_description="")
    assert registration.problems() == [("project_description", "is required")]


def test_a_registration_converts_only_once() -> None:
    registration = complete_registration()
    registration.convert(by=CLERK)
    with pytest.raises(Conflict):
        registration.convert(by=CLERK)
    with pytest.raises(Conflict):
        registration.update(project_description="changed")


def test_a_given_billing_profile_must_match_the_deal_currency() -> None:
    registration = complete_registration()
    with pytest.raises(ValidationFailed) as caught:
        registration.convert(billing_profile=billing_profile(currency="EUR"), by=CLERK)
    assert fields(caught.value) == {"billing_profile.currency"}
    assert registration.status is DealStatus.REGISTERED


def test_unknown_fields_cannot_be_updated() -> None:
    registration = complete_registration()
    with pytest.raises(ValidationFailed) as caught:
        registration.update(status="converted")
    assert fields(caught.value) == {"status"}


def test_an_inactive_partner_cannot_register_deals() -> None:
    retired = Partner.enrol("Old Partner")
    retired.active = False
    with pytest.raises(ValidationFailed) as caught:
        DealRegistration.register(retired, "Opportunity", by="usr_partner")
    assert fields(caught.value) == {"partner_id"}


def test_a_partner_needs_a_name_and_a_valid_email() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Partner.enrol(" ", contact_email="nope")
    assert fields(caught.value) == {"name", "contact_email"}
    assert partner().id.startswith("ptnr_")
