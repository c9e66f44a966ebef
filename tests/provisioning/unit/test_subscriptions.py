"""Subscriptions: the state machine, quantity and term changes, and the history billing reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from libs.contracts.vocabulary import LicenseType
from libs.platform.errors import Conflict, ValidationFailed
from provisioning.domain.subscriptions import (
    ChangeKind,
    RenewalPolicy,
    Subscription,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionExpired,
    SubscriptionRenewed,
    SubscriptionResumed,
    SubscriptionState,
    SubscriptionSuspended,
    TerminationFee,
    TermOutcome,
)

from .factories import CLERK, subscription

START = date(2026, 3, 1)
MID = date(2026, 7, 1)


def in_state(state: SubscriptionState) -> Subscription:
    """A subscription brought into `state` through legal transitions."""
    sub = subscription(active=state is not SubscriptionState.PENDING)
    if state is SubscriptionState.SUSPENDED:
        sub.suspend(effective=MID, by=CLERK)
    elif state is SubscriptionState.CANCELLED:
        sub.cancel(effective=MID, by=CLERK)
    elif state is SubscriptionState.EXPIRED:
        sub.expire(by=CLERK)
    sub.events.clear()
    return sub


def test_activation_carries_what_billing_needs() -> None:
    sub = subscription(quantity="250", commitment="250", license_type=LicenseType.COMMITTED)
    sub.activate(effective=START, by=CLERK)
    assert sub.state is SubscriptionState.ACTIVE
    (event,) = sub.events
    assert isinstance(event, SubscriptionActivated)
    assert (event.account_id, event.product_id, event.price_version) == (
        "acct_test",
        "prod_wfm",
        3,
    )
    assert (event.quantity, event.commitment_quantity) == (Decimal(250), Decimal(250))
    assert event.license_type is LicenseType.COMMITTED
    assert (event.term_start, event.term_end, event.effective_date) == (
        START,
        date(2029, 3, 1),
        START,
    )
    assert sub.history[-1].kind is ChangeKind.ACTIVATE
    assert sub.history[-1].before.state is SubscriptionState.PENDING
    assert sub.history[-1].after.state is SubscriptionState.ACTIVE


def test_a_trial_converts_to_active() -> None:
    sub = Subscription.create(
        account_id="acct_test",
        product_id="prod_x",
        price_id="price_x",
        price_version=1,
        quantity=Decimal(5),
        license_type=LicenseType.SUBSCRIPTION,
        term_start=START,
        term_end=date(2027, 3, 1),
        renewal=RenewalPolicy.auto_renew(12),
        trial=True,
    )
    assert sub.state is SubscriptionState.TRIAL
    sub.activate(effective=START, by=CLERK)
    assert sub.state is SubscriptionState.ACTIVE


def test_suspend_resume_cancel_round_trip() -> None:
    sub = in_state(SubscriptionState.ACTIVE)
    sub.suspend(effective=MID, by="dunning", reason="90 days past due")
    sub.resume(effective=date(2026, 8, 1), by=CLERK)
    sub.cancel(effective=date(2026, 9, 1), by=CLERK, reason="customer left")
    assert sub.state is SubscriptionState.CANCELLED
    assert [type(e) for e in sub.events] == [
        SubscriptionSuspended,
        SubscriptionResumed,
        SubscriptionCancelled,
    ]
    cancelled = sub.events[-1]
    assert isinstance(cancelled, SubscriptionCancelled)
    assert cancelled.ended_before_term
    assert [c.kind for c in sub.history] == [
        ChangeKind.ACTIVATE,
        ChangeKind.SUSPEND,
        ChangeKind.RESUME,
        ChangeKind.CANCEL,
    ]


def test_a_suspended_subscription_can_be_cancelled() -> None:
    sub = in_state(SubscriptionState.SUSPENDED)
    sub.cancel(effective=MID, by=CLERK)
    assert sub.state is SubscriptionState.CANCELLED


def test_an_expire_policy_expires_at_term_end() -> None:
    sub = in_state(SubscriptionState.ACTIVE)
    sub.reach_term_end(by="scheduler")
    assert sub.state is SubscriptionState.EXPIRED
    assert isinstance(sub.events[-1], SubscriptionExpired)


def test_auto_renew_extends_the_term_by_n_months() -> None:
    sub = subscription(renewal=RenewalPolicy.auto_renew(12), active=True)
    sub.reach_term_end(by="scheduler")
    assert sub.state is SubscriptionState.ACTIVE
    assert sub.term_end == date(2030, 3, 1)
    event = sub.events[-1]
    assert isinstance(event, SubscriptionRenewed)
    assert (event.effective_date, event.previous_term_end) == (date(2029, 3, 1), date(2029, 3, 1))
    assert sub.history[-1].kind is ChangeKind.RENEWAL


def test_term_ends_renew_until_the_term_runs_past_the_date_so_a_rerun_does_nothing() -> None:
    sub = subscription(renewal=RenewalPolicy.auto_renew(1), active=True)
    assert sub.process_term_ends(as_of=date(2029, 2, 28), by="scheduler") is None
    assert sub.process_term_ends(as_of=date(2029, 5, 15), by="scheduler") is TermOutcome.RENEWED
    assert sub.term_end == date(2029, 6, 1)
    assert [e.previous_term_end for e in sub.events if isinstance(e, SubscriptionRenewed)] == [
        date(2029, 3, 1),
        date(2029, 4, 1),
        date(2029, 5, 1),
    ]
    assert sub.process_term_ends(as_of=date(2029, 5, 15), by="scheduler") is None
    assert len(sub.events) == 3


def test_monthly_renewals_from_the_31st_return_to_the_31st_after_a_short_month() -> None:
    sub = subscription(
        term_start=date(2027, 1, 31),
        term_end=date(2027, 2, 28),
        renewal=RenewalPolicy.auto_renew(1),
        active=True,
    )
    assert sub.process_term_ends(as_of=date(2027, 4, 15), by="scheduler") is TermOutcome.RENEWED
    assert [e.previous_term_end for e in sub.events if isinstance(e, SubscriptionRenewed)] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    assert sub.term_end == date(2027, 4, 30)


def test_term_ends_expire_on_the_term_end_and_skip_inactive_subscriptions() -> None:
    sub = subscription(active=True)
    assert sub.process_term_ends(as_of=date(2029, 3, 1), by="scheduler") is TermOutcome.EXPIRED
    assert (sub.state, sub.events[-1].effective_date) == (SubscriptionState.EXPIRED, date(2029, 3, 1))
    assert sub.process_term_ends(as_of=date(2029, 3, 1), by="scheduler") is None
    suspended = in_state(SubscriptionState.SUSPENDED)
    assert suspended.process_term_ends(as_of=date(2040, 1, 1), by="scheduler") is None
    pending = subscription()
    assert pending.process_term_ends(as_of=date(2040, 1, 1), by="scheduler") is None


def test_an_expiring_subscription_cannot_be_renewed() -> None:
    with pytest.raises(Conflict):
        subscription(active=True).renew(by="scheduler")


ILLEGAL: list[tuple[SubscriptionState, str]] = [
    (SubscriptionState.ACTIVE, "activate"),
    (SubscriptionState.SUSPENDED, "activate"),
    (SubscriptionState.CANCELLED, "activate"),
    (SubscriptionState.EXPIRED, "activate"),
    (SubscriptionState.PENDING, "suspend"),
    (SubscriptionState.SUSPENDED, "suspend"),
    (SubscriptionState.CANCELLED, "suspend"),
    (SubscriptionState.EXPIRED, "suspend"),
    (SubscriptionState.PENDING, "resume"),
    (SubscriptionState.ACTIVE, "resume"),
    (SubscriptionState.CANCELLED, "resume"),
    (SubscriptionState.EXPIRED, "resume"),
    (SubscriptionState.PENDING, "cancel"),
    (SubscriptionState.CANCELLED, "cancel"),
    (SubscriptionState.EXPIRED, "cancel"),
    (SubscriptionState.PENDING, "expire"),
    (SubscriptionState.SUSPENDED, "expire"),
    (SubscriptionState.CANCELLED, "expire"),
    (SubscriptionState.EXPIRED, "expire"),
    (SubscriptionState.SUSPENDED, "change_quantity"),
    (SubscriptionState.CANCELLED, "change_quantity"),
    (SubscriptionState.EXPIRED, "change_quantity"),
    (SubscriptionState.SUSPENDED, "change_term"),
    (SubscriptionState.CANCELLED, "change_term"),
    (SubscriptionState.EXPIRED, "change_term"),
]

ACTIONS: dict[str, Callable[[Subscription], None]] = {
    "activate": lambda s: s.activate(effective=MID, by=CLERK),
    "suspend": lambda s: s.suspend(effective=MID, by=CLERK),
    "resume": lambda s: s.resume(effective=MID, by=CLERK),
    "cancel": lambda s: s.cancel(effective=MID, by=CLERK),
    "expire": lambda s: s.expire(by=CLERK),
    "change_quantity": lambda s: s.change_quantity(Decimal(300), effective=MID, by=CLERK),
    "change_term": lambda s: s.change_term(new_term_end=date(2030, 3, 1), effective=MID, by=CLERK),
}


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transitions_conflict_and_change_nothing(state: SubscriptionState, action: str) -> None:
    sub = in_state(state)
    history_before = list(sub.history)
    with pytest.raises(Conflict):
        ACTIONS[action](sub)
    assert sub.state is state
    assert sub.history == history_before
    assert sub.events == []


def test_raising_the_quantity_is_an_upgrade_and_lowering_a_downgrade() -> None:
    sub = subscription(quantity="250", active=True)
    sub.change_quantity(Decimal(262), effective=MID, by=CLERK)
    sub.change_quantity(Decimal(255), effective=date(2026, 8, 1), by=CLERK)
    assert sub.quantity == Decimal(255)
    assert [c.kind for c in sub.history[1:]] == [ChangeKind.UPGRADE, ChangeKind.DOWNGRADE]
    upgrade, downgrade = sub.events
    assert isinstance(upgrade, SubscriptionChanged)
    assert isinstance(downgrade, SubscriptionChanged)
    assert (upgrade.previous_quantity, upgrade.quantity, upgrade.effective_date) == (
        Decimal(250),
        Decimal(262),
        MID,
    )
    assert downgrade.change is ChangeKind.DOWNGRADE
    assert sub.history[1].before.quantity == Decimal(250)
    assert sub.history[1].after.quantity == Decimal(262)


def test_a_pending_quantity_change_is_a_plain_correction() -> None:
    sub = subscription(quantity="250")
    sub.change_quantity(Decimal(200), effective=START, by=CLERK)
    assert sub.history[-1].kind is ChangeKind.QUANTITY_CHANGE


def test_quantity_cannot_drop_below_the_commitment() -> None:
    sub = subscription(quantity="250", commitment="250", active=True)
    with pytest.raises(ValidationFailed) as caught:
        sub.change_quantity(Decimal(200), effective=MID, by=CLERK)
    assert caught.value.errors[0].code == "below_commitment"
    assert sub.quantity == Decimal(250)


@pytest.mark.parametrize(
    ("quantity", "effective", "field"),
    [
        ("0", MID, "quantity"),
        ("250", MID, "quantity"),
        ("300", date(2025, 1, 1), "effective_date"),
        ("300", date(2029, 3, 1), "effective_date"),
    ],
)
def test_invalid_quantity_changes_are_refused(quantity: str, effective: date, field: str) -> None:
    sub = subscription(quantity="250", active=True)
    with pytest.raises(ValidationFailed) as caught:
        sub.change_quantity(Decimal(quantity), effective=effective, by=CLERK)
    assert {e.field for e in caught.value.errors} == {field}


def test_creation_reports_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Subscription.create(
            account_id="acct_test",
            product_id="prod_x",
            price_id="price_x",
            price_version=0,
            quantity=Decimal(0),
            license_type=LicenseType.SUBSCRIPTION,
            term_start=START,
            term_end=START,
            renewal=RenewalPolicy.expire(),
            commitment_quantity=Decimal(-1),
        )
    assert {e.field for e in caught.value.errors} == {
        "quantity",
        "commitment_quantity",
        "term_end",
        "price_version",
    }


def test_activation_outside_the_term_is_refused() -> None:
    sub = subscription()
    with pytest.raises(ValidationFailed):
        sub.activate(effective=date(2030, 1, 1), by=CLERK)
    assert sub.state is SubscriptionState.PENDING


def test_auto_renew_needs_a_positive_number_of_months() -> None:
    with pytest.raises(ValidationFailed):
        RenewalPolicy.auto_renew(0)


def test_a_termination_fee_is_due_only_when_a_committed_term_with_a_fee_ends_early() -> None:
    fee = TerminationFee("price_exit", 2, Decimal("500.00"), "USD")
    committed = subscription(commitment="100", active=True)
    committed.termination_fee_price_id = "price_exit"
    assert committed.termination_fee_due(date(2028, 1, 1))
    assert not committed.termination_fee_due(date(2029, 3, 1))  # the term end itself
    uncommitted = subscription(active=True)
    uncommitted.termination_fee_price_id = "price_exit"
    assert not uncommitted.termination_fee_due(date(2028, 1, 1))
    assert not subscription(commitment="100", active=True).termination_fee_due(date(2028, 1, 1))

    with pytest.raises(Conflict):
        committed.cancel(effective=date(2028, 1, 1), by=CLERK)  # the fee is due: it must be charged
    with pytest.raises(Conflict):
        uncommitted.cancel(effective=date(2028, 1, 1), by=CLERK, termination_fee=fee)
    committed.cancel(effective=date(2028, 1, 1), by=CLERK, termination_fee=fee)
    event = committed.events[-1]
    assert isinstance(event, SubscriptionCancelled)
    assert (event.ended_before_term, event.termination_fee) == (True, fee)
    assert committed.termination_fee == fee
