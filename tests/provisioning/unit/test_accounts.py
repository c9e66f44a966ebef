"""Accounts: billing profiles, hierarchy and the parent-currency rule."""

from __future__ import annotations

from datetime import date

import pytest

from libs.platform.errors import ValidationFailed
from provisioning.domain.accounts import (
    Account,
    AccountHierarchy,
    AccountOpened,
    AccountParentChanged,
    Contact,
    ContactRole,
    Customer,
    CustomerRegistered,
    DeliveryPreference,
    TaxAddress,
    TaxStatus,
    TaxTreatment,
    validate_billing_profile,
)

from .factories import CLERK, account, billing_profile


def fields(error: ValidationFailed) -> set[str]:
    """The field names a 422 would list."""
    return {e.field for e in error.errors}


def test_profile_defaults_follow_the_design() -> None:
    profile = billing_profile()
    assert profile.time_zone == "UTC"
    assert profile.payment_terms_days == 30
    assert profile.bill_cycle_day == 1
    assert profile.delivery is DeliveryPreference.EMAIL
    assert profile.tax_status.treatment is TaxTreatment.TAXABLE
    assert [c.email for c in profile.contacts_with(ContactRole.BILLING)] == ["ap@example.com"]


def test_validate_billing_profile_reports_every_problem_at_once() -> None:
    profile = billing_profile(
        currency="XYZ",
        time_zone="Mars/Olympus",
        bill_cycle_day=32,
        payment_terms_days=-1,
        tax_status=TaxStatus(TaxTreatment.EXEMPT),
        tax_address=TaxAddress(country="UK"),
    )
    with pytest.raises(ValidationFailed) as caught:
        validate_billing_profile(profile)
    assert fields(caught.value) == {
        "billing_profile.currency",
        "billing_profile.time_zone",
        "billing_profile.bill_cycle_day",
        "billing_profile.payment_terms_days",
        "billing_profile.tax_status.certificate_number",
        "billing_profile.tax_status.certificate_expiry",
        "billing_profile.tax_address.country",
    }


def test_a_valid_exempt_profile_passes_and_the_exemption_expires() -> None:
    tax = TaxStatus.exempt("EX-1234", date(2026, 12, 31))
    validate_billing_profile(
        billing_profile(
            tax_status=tax,
            tax_address=TaxAddress("US", "WA", "98101"),
            time_zone="America/Los_Angeles",
            bill_cycle_day=31,
        )
    )
    assert tax.is_exempt_on(date(2026, 12, 31))
    assert not tax.is_exempt_on(date(2027, 1, 1))


def test_a_contact_without_a_valid_email_is_refused() -> None:
    profile = billing_profile(contacts=(Contact("Tech", "not-an-email", ContactRole.TECHNICAL),))
    with pytest.raises(ValidationFailed) as caught:
        validate_billing_profile(profile)
    assert fields(caught.value) == {"billing_profile.contacts.0.email"}


def test_registering_a_customer_and_opening_an_account_record_events() -> None:
    customer = Customer.register("Redfin", by=CLERK)
    assert customer.id.startswith("cus_")
    assert isinstance(customer.events[0], CustomerRegistered)

    opened = Account.open(customer_id=customer.id, name="Redfin", billing_profile=billing_profile(), by=CLERK)
    assert opened.id.startswith("acct_")
    event = opened.events[0]
    assert isinstance(event, AccountOpened)
    assert event.billing_profile.currency == "USD"


def test_a_customer_needs_a_name() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Customer.register("  ", by=CLERK)
    assert fields(caught.value) == {"name"}


def test_a_child_billing_to_its_parent_must_share_its_currency() -> None:
    parent = account(currency="EUR")
    with pytest.raises(ValidationFailed) as caught:
        account(parent=parent, bills_to_parent=True, currency="USD")
    assert fields(caught.value) == {"billing_profile.currency"}
    assert caught.value.errors[0].code == "currency_mismatch"


def test_a_child_that_bills_itself_may_use_another_currency() -> None:
    parent = account(currency="EUR")
    child = account(parent=parent, bills_to_parent=False, currency="USD")
    assert child.parent_account_id == parent.id


def test_billing_to_a_parent_needs_a_parent() -> None:
    with pytest.raises(ValidationFailed) as caught:
        account(bills_to_parent=True)
    assert fields(caught.value) == {"bills_to_parent"}


def test_changing_a_parent_currency_is_refused_while_children_bill_to_it() -> None:
    parent = account(currency="USD")
    child = account(parent=parent, bills_to_parent=True, currency="USD")
    with pytest.raises(ValidationFailed) as caught:
        parent.change_billing_profile(
            billing_profile(currency="EUR"), children_billing_here=[child], by=CLERK
        )
    assert fields(caught.value) == {"billing_profile.currency"}
    assert parent.currency == "USD"


def test_changing_a_child_currency_away_from_its_parent_is_refused() -> None:
    parent = account(currency="USD")
    child = account(parent=parent, bills_to_parent=True, currency="USD")
    with pytest.raises(ValidationFailed):
        child.change_billing_profile(billing_profile(currency="EUR"), parent=parent, by=CLERK)
    child.change_billing_profile(billing_profile(payment_terms_days=45), parent=parent, by=CLERK)
    assert child.billing_profile.payment_terms_days == 45


def test_the_hierarchy_refuses_cycles() -> None:
    top = account()
    middle = account(parent=top)
    bottom = account(parent=middle)
    hierarchy = AccountHierarchy(
        {top.id: None, middle.id: top.id, bottom.id: middle.id},
    )
    with pytest.raises(ValidationFailed) as caught:
        top.attach_to_parent(bottom, hierarchy=hierarchy, bills_to_parent=False, by=CLERK)
    assert caught.value.errors[0].code == "hierarchy_cycle"
    with pytest.raises(ValidationFailed):
        top.attach_to_parent(top, hierarchy=hierarchy, bills_to_parent=False, by=CLERK)
    assert top.parent_account_id is None


def test_moving_an_account_records_the_new_parent() -> None:
    old_parent, new_parent = account(), account()
    child = account(parent=old_parent)
    hierarchy = AccountHierarchy({child.id: old_parent.id, old_parent.id: None})
    child.attach_to_parent(new_parent, hierarchy=hierarchy, bills_to_parent=True, by=CLERK)
    assert (child.parent_account_id, child.bills_to_parent) == (new_parent.id, True)
    assert child.events == [AccountParentChanged(child.id, new_parent.id, True, CLERK)]
    child.detach_from_parent(by=CLERK)
    assert (child.parent_account_id, child.bills_to_parent) == (None, False)


def test_ancestors_stop_on_data_that_already_loops() -> None:
    hierarchy = AccountHierarchy({"a": "b", "b": "a"})
    assert hierarchy.ancestors("a") == ["b", "a"]
