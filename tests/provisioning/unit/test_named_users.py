"""Named-user pools: seats counted once per user, K of M programs, yearly transfers (case 4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from libs.platform.errors import ValidationFailed
from provisioning.domain.named_users import NamedUserPool, NamedUserTransferred

ADMIN = "usr_pm"
PROGRAMS = [f"program_{n}" for n in range(1, 11)]
START = date(2026, 1, 15)
YEAR_2 = date(2027, 3, 1)


def pool(**overrides: Any) -> NamedUserPool:
    """Case 4: 500 named users, 4 of the 10 contract programs each, 10 % transfers."""
    values: dict[str, Any] = {
        "account_id": "acct_united",
        "size": 500,
        "programs_per_user": 4,
        "contract_programs": PROGRAMS,
        "contract_start": START,
    }
    values.update(overrides)
    return NamedUserPool.create(**values)


def filled(size: int = 500) -> NamedUserPool:
    """A pool whose every seat is taken by user_0 … user_{size-1}."""
    full = pool(size=size)
    for n in range(size):
        full.assign(f"user_{n}", PROGRAMS[:1], by=ADMIN)
    full.events.clear()
    return full


def codes(error: ValidationFailed) -> set[tuple[str, str]]:
    """(field, code) pairs a 422 would list."""
    return {(e.field, e.code) for e in error.errors}


def test_a_user_in_three_programs_counts_once() -> None:
    named = pool()
    named.assign("alice", PROGRAMS[:2], by=ADMIN)
    named.assign("alice", PROGRAMS[2:3], by=ADMIN)
    assert named.seats_used == 1
    assert named.seats_available == 499
    assert named.programs_of("alice") == frozenset(PROGRAMS[:3])


def test_a_fifth_program_is_refused() -> None:
    named = pool()
    named.assign("alice", PROGRAMS[:4], by=ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        named.assign("alice", PROGRAMS[4:5], by=ADMIN)
    assert codes(caught.value) == {("programs", "too_many_programs")}
    assert len(named.programs_of("alice")) == 4


def test_a_program_outside_the_contract_is_refused() -> None:
    named = pool()
    with pytest.raises(ValidationFailed) as caught:
        named.assign("alice", ["program_1", "program_99"], by=ADMIN)
    assert codes(caught.value) == {("programs.1", "not_in_contract")}
    assert named.seats_used == 0


def test_the_501st_user_is_refused_but_existing_users_still_gain_programs() -> None:
    full = filled()
    with pytest.raises(ValidationFailed) as caught:
        full.assign("newcomer", PROGRAMS[:1], by=ADMIN)
    assert codes(caught.value) == {("user_id", "pool_full")}
    full.assign("user_0", PROGRAMS[1:2], by=ADMIN)
    assert full.seats_used == 500


def test_no_transfers_in_the_first_contract_year() -> None:
    named = filled(size=20)
    with pytest.raises(ValidationFailed) as caught:
        named.transfer("user_0", "bob", on_date=date(2027, 1, 14), by=ADMIN)
    assert codes(caught.value) == {("on_date", "transfer_not_allowed_yet")}
    assert named.transfers_remaining(date(2026, 6, 1)) == 0


def test_the_51st_transfer_in_a_contract_year_is_refused() -> None:
    named = filled()
    assert named.transfers_per_year == 50
    for n in range(50):
        named.transfer(f"user_{n}", f"hire_{n}", on_date=YEAR_2, by=ADMIN)
    assert named.transfers_remaining(YEAR_2) == 0
    with pytest.raises(ValidationFailed) as caught:
        named.transfer("user_50", "hire_50", on_date=date(2028, 1, 14), by=ADMIN)
    assert codes(caught.value) == {("on_date", "transfer_allowance_exhausted")}
    # The allowance is per contract year: year 3 starts on the second anniversary.
    named.transfer("user_50", "hire_50", on_date=date(2028, 1, 15), by=ADMIN)
    assert named.contract_year(date(2028, 1, 15)) == 3
    assert named.transfers_remaining(date(2028, 1, 15)) == 49


def test_a_transfer_moves_the_seat_and_its_programs() -> None:
    named = pool(size=10)
    named.assign("alice", PROGRAMS[:3], by=ADMIN)
    named.transfer("alice", "bob", on_date=YEAR_2, by=ADMIN)
    assert named.programs_of("bob") == frozenset(PROGRAMS[:3])
    assert named.programs_of("alice") == frozenset()
    assert named.seats_used == 1
    # floor(10 x 10 / 100) = 1 transfer a year, now used.
    assert named.events[-1] == NamedUserTransferred(
        named.id, "alice", "bob", YEAR_2, 2, 0, ADMIN, frozenset(PROGRAMS[:3])
    )


def test_the_allowance_rounds_down() -> None:
    assert pool(size=15).transfers_per_year == 1
    assert pool(size=9).transfers_per_year == 0
    assert pool(size=500, transfer_percent=Decimal("12.5")).transfers_per_year == 62


def test_transfer_checks_both_people() -> None:
    named = pool(size=10)
    named.assign("alice", PROGRAMS[:1], by=ADMIN)
    named.assign("bob", PROGRAMS[:1], by=ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        named.transfer("carol", "bob", on_date=YEAR_2, by=ADMIN)
    assert codes(caught.value) == {
        ("from_user", "not_assigned"),
        ("to_user", "already_assigned"),
    }
    with pytest.raises(ValidationFailed):
        named.transfer("alice", "dave", on_date=date(2025, 1, 1), by=ADMIN)


def test_a_pool_is_checked_as_a_whole() -> None:
    with pytest.raises(ValidationFailed) as caught:
        pool(size=0, programs_per_user=11, transfer_percent=Decimal(101))
    assert {e.field for e in caught.value.errors} == {
        "size",
        "programs_per_user",
        "transfer_percent",
    }
    assert pool().id.startswith("pool_")


def test_assigning_programs_a_user_already_holds_is_a_no_op() -> None:
    named = pool()
    assert named.assign("alice", PROGRAMS[:2], by=ADMIN) is True
    named.events.clear()
    assert named.assign("alice", PROGRAMS[1:2], by=ADMIN) is False
    assert named.assign("alice", PROGRAMS[:2], by=ADMIN) is False
    assert named.events == []
    assert named.seats_used == 1
    assert named.assign("alice", PROGRAMS[2:3], by=ADMIN) is True
    assert len(named.events) == 1
