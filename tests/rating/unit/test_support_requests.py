"""Support requests with plain values: the seed's validation order, time drawn, expiry, rollover
(seed 004, EXAMPLES §5). No hour is made or lost: logged = covered + rolled over + uncovered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.errors import Conflict, ValidationFailed
from rating.domain.support_contracts import (
    HolderType,
    SupportContract,
    SupportContractTemplate,
    contract_terms,
    incident_terms,
)
from rating.domain.support_requests import (
    STEP_REASONS,
    Allocation,
    AllocationRule,
    Coverage,
    CoverageStep,
    RequestHolders,
    SupportRequest,
    TimeEntry,
    find_coverage,
    split_time,
    step_number,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
HOLDERS = RequestHolders(subscription_id="sub_item", account_id="acct_customer", parent_account_id="acct_org")
HOLDER_OF = {
    "item": (HolderType.SUBSCRIPTION, "sub_item"),
    "customer": (HolderType.ACCOUNT, "acct_customer"),
    "org_unit": (HolderType.ACCOUNT, "acct_org"),
    "other_item": (HolderType.SUBSCRIPTION, "sub_other"),
    "other_account": (HolderType.ACCOUNT, "acct_other"),
}
_ids = count(1)


def contract(
    holder: str,
    *,
    kind: ContractKind = ContractKind.TIME_LIMITED,
    starts_on: date = date(2026, 1, 1),
    period_months: int | None = 12,
    hours: str | None = "40",
    used: str = "0",
    on_expiry: ExpiryOption = ExpiryOption.ROLLOVER,
    request_id: str | None = None,
) -> SupportContract:
    """A contract of `holder` (item, customer, org_unit, ...) with hours already used."""
    template = SupportContractTemplate(
        id=f"ctpl_{kind.value}",
        name=kind.value,
        kind=kind,
        period_months=period_months if kind.has_period else None,
        hours=Decimal(hours) if hours is not None and kind.has_hours else None,
        on_expiry=on_expiry,
        product_id="prod_support",
        event_at=NOW,
    )
    holder_type, holder_id = HOLDER_OF[holder]
    terms = incident_terms(template) if kind is ContractKind.PER_INCIDENT else contract_terms(template)
    c = SupportContract.open(
        id=f"sct_{next(_ids):04d}",
        template=template,
        terms=terms,
        holder_type=holder_type,
        holder_id=holder_id,
        account_id="acct_customer",
        time_zone="UTC",
        starts_on=starts_on,
        now=NOW,
        request_id=request_id,
    )
    c.hours_used = Decimal(used)
    c.events.clear()
    return c


def step_at(contracts: list[SupportContract], at: datetime = JUNE) -> CoverageStep | None:
    found = find_coverage(HOLDERS, contracts, at)
    return None if found is None else found.step


# --- the validation order -------------------------------------------------------------------


def test_the_order_is_item_customer_org_unit_valid_then_pending_then_per_incident() -> None:
    later = date(2026, 9, 1)
    contracts = {
        CoverageStep.ITEM_VALID: contract("item"),
        CoverageStep.CUSTOMER_VALID: contract("customer"),
        CoverageStep.ORG_UNIT_VALID: contract("org_unit"),
        CoverageStep.ITEM_PENDING: contract("item", starts_on=later),
        CoverageStep.CUSTOMER_PENDING: contract("customer", starts_on=later),
        CoverageStep.ORG_UNIT_PENDING: contract("org_unit", starts_on=later),
    }
    remaining = dict(contracts)
    seen = []
    while remaining:
        found = find_coverage(HOLDERS, remaining.values(), JUNE)
        assert found is not None
        assert found.contract is contracts[found.step]
        seen.append(found.step)
        del remaining[found.step]
    assert seen == list(CoverageStep)[:6]
    assert step_at([]) is None
    assert [step_number(s) for s in CoverageStep] == [1, 2, 3, 4, 5, 6, 7]
    assert set(STEP_REASONS) == set(CoverageStep)


def test_a_pending_item_contract_loses_to_a_valid_org_unit_contract() -> None:
    assert (
        step_at([contract("item", starts_on=date(2026, 7, 1)), contract("org_unit")])
        is CoverageStep.ORG_UNIT_VALID
    )


def test_expired_cancelled_foreign_and_per_incident_contracts_never_cover() -> None:
    used_up = contract("item", used="40")
    period_over = contract("customer", starts_on=date(2025, 1, 1))
    cancelled = contract("org_unit")
    cancelled.cancel(now=NOW)
    someone_elses = [contract("other_item"), contract("other_account")]
    incident = contract(
        "item", kind=ContractKind.PER_INCIDENT, period_months=None, hours=None, request_id="srq_other"
    )
    assert step_at([used_up, period_over, cancelled, *someone_elses, incident]) is None


def test_a_customer_without_a_parent_has_no_org_unit() -> None:
    alone = RequestHolders("sub_item", "acct_customer", None)
    assert find_coverage(alone, [contract("org_unit")], JUNE) is None


def test_of_two_valid_contracts_the_one_ending_first_covers() -> None:
    long = contract("item", starts_on=date(2026, 1, 1), period_months=24)
    short = contract("item", starts_on=date(2026, 3, 1), period_months=6)
    found = find_coverage(HOLDERS, [long, short], JUNE)
    assert found is not None and found.contract is short


# --- time drawn, expiry, rollover (EXAMPLES §5) ---------------------------------------------


def test_examples_5_rollover_two_hours_covered_one_rolled_to_the_next_valid_contract() -> None:
    time_limited = contract("item", used="38", on_expiry=ExpiryOption.ROLLOVER)
    customer_hours = contract("customer", kind=ContractKind.SUPPORT_HOURS, period_months=None, hours="10")
    split = split_time(
        Decimal(3),
        at=JUNE,
        now=NOW,
        covering=time_limited,
        holders=HOLDERS,
        candidates=[time_limited, customer_hours],
    )
    assert split.allocations == (
        Allocation(time_limited.id, Decimal(2), AllocationRule.COVERING),
        Allocation(customer_hours.id, Decimal(1), AllocationRule.ROLLOVER),
    )
    assert (split.covered, split.rolled_over, split.uncovered) == (2, 1, 0)
    assert split.expired_contract_ids == (time_limited.id,)
    assert split.covering_contract_id == customer_hours.id
    assert (time_limited.hours_used, time_limited.hours_remaining) == (40, 0)
    assert time_limited.ended_at == JUNE
    assert customer_hours.hours_used == 1


def test_examples_5_ignore_two_hours_covered_one_not_covered() -> None:
    time_limited = contract("item", used="38", on_expiry=ExpiryOption.IGNORE)
    customer_hours = contract("customer", kind=ContractKind.SUPPORT_HOURS, period_months=None, hours="10")
    split = split_time(
        Decimal(3),
        at=JUNE,
        now=NOW,
        covering=time_limited,
        holders=HOLDERS,
        candidates=[time_limited, customer_hours],
    )
    assert (split.covered, split.rolled_over, split.uncovered) == (2, 0, 1)
    assert split.expired_contract_ids == (time_limited.id,)
    assert split.covering_contract_id == time_limited.id
    assert customer_hours.hours_used == 0


def test_time_spent_after_the_period_ended_follows_the_expiry_option_whole() -> None:
    subscription = contract(
        "item", kind=ContractKind.SUBSCRIPTION, hours=None, on_expiry=ExpiryOption.ROLLOVER
    )
    next_year = contract("customer", starts_on=date(2027, 1, 1))
    january = datetime(2027, 1, 5, tzinfo=UTC)
    split = split_time(
        Decimal("1.5"), at=january, now=NOW, covering=subscription, holders=HOLDERS, candidates=[next_year]
    )
    assert (split.covered, split.rolled_over, split.uncovered) == (0, Decimal("1.5"), 0)
    assert split.allocations == (Allocation(next_year.id, Decimal("1.5"), AllocationRule.ROLLOVER),)


def test_rollover_with_no_next_contract_leaves_the_rest_uncovered() -> None:
    time_limited = contract("item", used="38")
    split = split_time(Decimal(3), at=JUNE, now=NOW, covering=time_limited, holders=HOLDERS, candidates=[])
    assert (split.covered, split.rolled_over, split.uncovered) == (2, 0, 1)


def test_rollover_goes_on_through_contracts_that_run_out_too() -> None:
    first = contract("item", used="39")
    second = contract("customer", kind=ContractKind.SUPPORT_HOURS, period_months=None, hours="0.5")
    third = contract("org_unit", starts_on=date(2026, 8, 1))  # pending: bought ahead
    split = split_time(
        Decimal(5), at=JUNE, now=NOW, covering=first, holders=HOLDERS, candidates=[first, second, third]
    )
    assert [(a.contract_id, a.hours, a.rule) for a in split.allocations] == [
        (first.id, 1, AllocationRule.COVERING),
        (second.id, Decimal("0.5"), AllocationRule.ROLLOVER),
        (third.id, Decimal("3.5"), AllocationRule.ROLLOVER),
    ]
    assert split.expired_contract_ids == (first.id, second.id)
    assert split.covering_contract_id == third.id


def test_a_rolled_to_contract_that_ignores_stops_the_rollover() -> None:
    first = contract("item", used="39")
    second = contract(
        "customer",
        kind=ContractKind.SUPPORT_HOURS,
        period_months=None,
        hours="0.5",
        on_expiry=ExpiryOption.IGNORE,
    )
    third = contract("org_unit")
    split = split_time(
        Decimal(5), at=JUNE, now=NOW, covering=first, holders=HOLDERS, candidates=[first, second, third]
    )
    assert (split.covered, split.rolled_over, split.uncovered) == (1, Decimal("0.5"), Decimal("3.5"))
    assert third.hours_used == 0


def test_a_per_incident_contract_covers_all_the_time_of_its_request() -> None:
    incident = contract(
        "item", kind=ContractKind.PER_INCIDENT, period_months=None, hours=None, request_id="srq_1"
    )
    split = split_time(Decimal(250), at=JUNE, now=NOW, covering=incident, holders=HOLDERS, candidates=[])
    assert (split.covered, split.rolled_over, split.uncovered) == (250, 0, 0)


# --- the request --------------------------------------------------------------------------


def opened_request(covering: SupportContract, step: CoverageStep = CoverageStep.ITEM_VALID) -> SupportRequest:
    return SupportRequest.open(
        id="srq_1",
        holders=HOLDERS,
        summary="Printer on fire",
        opened_at=JUNE,
        coverage=Coverage(covering, step),
        now=NOW,
    )


def test_a_request_adds_up_its_time_and_follows_the_contract_time_rolled_to() -> None:
    first = contract("item", used="38")
    second = contract("customer")
    request = opened_request(first)
    split = split_time(Decimal(3), at=JUNE, now=NOW, covering=first, holders=HOLDERS, candidates=[second])
    request.record_time(TimeEntry("stl_1", request.id, Decimal(3), JUNE, split, NOW), now=NOW)
    assert (
        request.hours_logged,
        request.hours_covered,
        request.hours_rolled_over,
        request.hours_uncovered,
    ) == (
        3,
        2,
        1,
        0,
    )
    assert (request.contract_id, request.coverage_contract_id) == (second.id, first.id)


def test_time_is_logged_on_an_open_request_from_its_opening() -> None:
    request = opened_request(contract("item"))
    with pytest.raises(ValidationFailed) as refused:
        request.check_loggable(datetime(2026, 6, 15, 8, 59, tzinfo=UTC))
    assert refused.value.errors[0].field == "logged_at"
    request.close(at=JUNE, now=NOW)
    with pytest.raises(Conflict):
        request.check_loggable(JUNE)
    with pytest.raises(Conflict):
        request.close(at=JUNE, now=NOW)


def test_a_request_is_not_closed_before_it_was_opened() -> None:
    request = opened_request(contract("item"))
    with pytest.raises(ValidationFailed) as refused:
        request.close(at=datetime(2026, 1, 1, tzinfo=UTC), now=NOW)
    assert refused.value.errors[0].field == "closed_at"


# --- no hour made or lost -------------------------------------------------------------------

hours = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(60), places=2)
kinds = st.sampled_from([ContractKind.TIME_LIMITED, ContractKind.SUPPORT_HOURS, ContractKind.SUBSCRIPTION])
holders = st.sampled_from(["item", "customer", "org_unit", "other_item"])
expiry = st.sampled_from(list(ExpiryOption))
starts = st.sampled_from([date(2025, 1, 1), date(2026, 1, 1), date(2026, 9, 1)])


@st.composite
def contracts(draw: st.DrawFn) -> SupportContract:
    kind = draw(kinds)
    granted = draw(hours)
    c = contract(draw(holders), kind=kind, starts_on=draw(starts), hours=str(granted), on_expiry=draw(expiry))
    if c.hours_granted is not None:
        c.hours_used = draw(st.decimals(min_value=0, max_value=c.hours_granted, places=2))
        if c.hours_used == c.hours_granted:
            c.ended_at = NOW
    return c


@given(logged=hours, covering=contracts(), others=st.lists(contracts(), max_size=5))
def test_hours_are_never_made_or_lost(
    logged: Decimal, covering: SupportContract, others: list[SupportContract]
) -> None:
    pool = [covering, *others]
    before = {c.id: c.hours_used for c in pool}
    split = split_time(logged, at=JUNE, now=NOW, covering=covering, holders=HOLDERS, candidates=pool)
    assert split.covered + split.rolled_over + split.uncovered == logged
    assert split.uncovered >= 0 and all(a.hours > 0 for a in split.allocations)
    drawn = {c.id: c.hours_used - before[c.id] for c in pool}
    assert sum(drawn.values()) == split.covered + split.rolled_over
    for c in pool:
        assert drawn[c.id] == sum((a.hours for a in split.allocations if a.contract_id == c.id), Decimal(0))
        if c.hours_granted is not None:
            assert c.hours_used <= c.hours_granted
    if covering.on_expiry is ExpiryOption.IGNORE:
        assert split.rolled_over == 0
