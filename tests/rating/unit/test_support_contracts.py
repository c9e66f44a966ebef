"""Support contracts with plain values: bounds per kind, periods, states, hours drawn (seed 004)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.errors import Conflict, ValidationFailed
from rating.domain.support_contracts import (
    ContractChange,
    ContractState,
    HolderType,
    SupportContract,
    SupportContractTemplate,
    contract_terms,
    incident_terms,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def template(
    kind: ContractKind,
    *,
    period_months: int | None = None,
    hours: str | None = None,
    on_expiry: ExpiryOption = ExpiryOption.ROLLOVER,
    product_id: str | None = "prod_support",
) -> SupportContractTemplate:
    return SupportContractTemplate(
        id=f"ctpl_{kind.value}",
        name=kind.value,
        kind=kind,
        period_months=period_months,
        hours=None if hours is None else Decimal(hours),
        on_expiry=on_expiry,
        product_id=product_id,
        event_at=NOW,
    )


def opened(
    tpl: SupportContractTemplate,
    starts_on: date,
    *,
    time_zone: str = "UTC",
    hours: str | None = None,
    period_months: int | None = None,
) -> SupportContract:
    terms = contract_terms(tpl, hours=None if hours is None else Decimal(hours), period_months=period_months)
    return SupportContract.open(
        id="sct_1",
        template=tpl,
        terms=terms,
        holder_type=HolderType.SUBSCRIPTION,
        holder_id="sub_1",
        account_id="acct_1",
        time_zone=time_zone,
        starts_on=starts_on,
        now=NOW,
    )


TIME_LIMITED = template(ContractKind.TIME_LIMITED, period_months=12, hours="40")


def test_each_kind_knows_its_bounds() -> None:
    assert {k: (k.has_period, k.has_hours) for k in ContractKind} == {
        ContractKind.SUBSCRIPTION: (True, False),
        ContractKind.TIME_LIMITED: (True, True),
        ContractKind.SUPPORT_HOURS: (False, True),
        ContractKind.PER_INCIDENT: (False, False),
    }


def test_a_time_limited_contract_runs_a_year_or_forty_hours_whichever_ends_first() -> None:
    # EXAMPLES §5: [2026-01-01, 2027-01-01) or 40 hours.
    contract = opened(TIME_LIMITED, date(2026, 1, 1))
    assert (contract.ends_on, contract.hours_granted, contract.hours_used) == (date(2027, 1, 1), 40, 0)
    assert contract.state_on(date(2025, 12, 31)) is ContractState.PENDING
    assert contract.state_on(date(2026, 1, 1)) is ContractState.ACTIVE
    assert contract.state_on(date(2026, 12, 31)) is ContractState.ACTIVE
    assert contract.state_on(date(2027, 1, 1)) is ContractState.EXPIRED

    june = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert contract.draw(Decimal(38), at=june, now=NOW) == 38
    assert (contract.hours_remaining, contract.state_on(date(2026, 6, 1))) == (2, ContractState.ACTIVE)
    assert contract.draw(Decimal(3), at=june, now=NOW) == 2
    assert contract.hours_remaining == 0
    assert contract.ended_at == june
    # The hours ran out before the period did: expired from then on.
    assert contract.state_on(date(2026, 6, 2)) is ContractState.EXPIRED
    assert contract.draw(Decimal(1), at=june, now=NOW) == 0
    assert [e.change for e in contract.events] == [
        ContractChange.OPENED,
        ContractChange.HOURS_DRAWN,
        ContractChange.HOURS_DRAWN,
    ]


def test_a_period_ends_on_the_same_day_months_later_clamped_to_the_month_end() -> None:
    subscription = template(ContractKind.SUBSCRIPTION, period_months=1, on_expiry=ExpiryOption.IGNORE)
    assert opened(subscription, date(2026, 1, 31)).ends_on == date(2026, 2, 28)
    assert opened(subscription, date(2026, 1, 31), period_months=13).ends_on == date(2027, 2, 28)


def test_a_subscription_contract_covers_any_hours_within_its_period() -> None:
    contract = opened(template(ContractKind.SUBSCRIPTION, period_months=12), date(2026, 1, 1))
    assert contract.hours_granted is None and contract.hours_remaining is None
    assert contract.draw(Decimal(5000), at=NOW, now=NOW) == 5000
    assert contract.state_at(NOW) is ContractState.ACTIVE
    assert contract.draw(Decimal(1), at=datetime(2027, 1, 1, tzinfo=UTC), now=NOW) == 0


def test_a_support_hours_contract_has_no_period() -> None:
    contract = opened(template(ContractKind.SUPPORT_HOURS, hours="10"), date(2026, 1, 1))
    assert contract.ends_on is None
    assert contract.state_on(date(2199, 1, 1)) is ContractState.ACTIVE


def test_states_are_read_on_the_holders_local_date() -> None:
    contract = opened(TIME_LIMITED, date(2026, 1, 1), time_zone="Pacific/Auckland")
    # 2025-12-31 12:00 UTC is already 2026-01-01 01:00 in Auckland.
    assert contract.state_at(datetime(2025, 12, 31, 12, 0, tzinfo=UTC)) is ContractState.ACTIVE
    assert contract.state_at(datetime(2025, 12, 31, 10, 0, tzinfo=UTC)) is ContractState.PENDING
    assert contract.state_at(datetime(2026, 12, 31, 11, 0, tzinfo=UTC)) is ContractState.EXPIRED


def test_overrides_are_allowed_only_where_the_kind_has_the_bound() -> None:
    terms = contract_terms(TIME_LIMITED, hours=Decimal("60.5"), period_months=6)
    assert (terms.hours, terms.period_months, terms.on_expiry) == (Decimal("60.5"), 6, ExpiryOption.ROLLOVER)
    with pytest.raises(ValidationFailed) as refused:
        contract_terms(template(ContractKind.SUBSCRIPTION, period_months=12), hours=Decimal(5))
    assert [(e.field, e.code) for e in refused.value.errors] == [("hours", "not_allowed")]
    with pytest.raises(ValidationFailed) as refused:
        contract_terms(template(ContractKind.SUPPORT_HOURS, hours="10"), period_months=3)
    assert [(e.field, e.code) for e in refused.value.errors] == [("period_months", "not_allowed")]
    with pytest.raises(ValidationFailed) as refused:
        contract_terms(template(ContractKind.PER_INCIDENT))
    assert [e.field for e in refused.value.errors] == ["template_id"]


def test_a_per_incident_template_must_bill_a_product() -> None:
    assert incident_terms(template(ContractKind.PER_INCIDENT)).kind is ContractKind.PER_INCIDENT
    with pytest.raises(Conflict):
        incident_terms(template(ContractKind.PER_INCIDENT, product_id=None))
    with pytest.raises(ValidationFailed):
        incident_terms(TIME_LIMITED)


def test_a_cancelled_contract_covers_nothing_and_cannot_be_cancelled_twice() -> None:
    contract = opened(TIME_LIMITED, date(2026, 1, 1))
    contract.cancel(now=NOW)
    assert contract.state_at(NOW) is ContractState.CANCELLED
    assert contract.draw(Decimal(1), at=NOW, now=NOW) == 0
    with pytest.raises(Conflict):
        contract.cancel(now=NOW)


def test_a_newer_catalog_event_replaces_the_template_an_older_one_does_not() -> None:
    assert TIME_LIMITED.is_superseded_by(NOW)
    assert TIME_LIMITED.is_superseded_by(datetime(2026, 6, 16, tzinfo=UTC))
    assert not TIME_LIMITED.is_superseded_by(datetime(2026, 6, 14, tzinfo=UTC))
