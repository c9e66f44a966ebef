"""Ids are prefixed, opaque and sort by creation time."""

from __future__ import annotations

import time

from libs.platform.ids import is_valid_id, new_id


def test_ids_carry_their_prefix_and_shape() -> None:
    value = new_id("inv")
    assert value.startswith("inv_") and len(value) == 30
    assert is_valid_id(value, "inv")
    assert not is_valid_id(value, "cus")
    assert not is_valid_id("inv_not-an-id")


def test_ids_made_later_sort_after_earlier_ones() -> None:
    first = new_id("cus")
    time.sleep(0.002)
    second = new_id("cus")
    assert first < second


def test_ids_do_not_repeat() -> None:
    assert len({new_id("sub") for _ in range(10_000)}) == 10_000


def test_ids_made_in_the_same_millisecond_keep_their_order() -> None:
    made = [new_id("task") for _ in range(1_000)]
    assert made == sorted(made)
