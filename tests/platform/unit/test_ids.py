"""Ids are prefixed, opaque and sort by creation time."""

from __future__ import annotations

import base64
import random
import time

from libs.platform.ids import _spelled, is_valid_id, new_id


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


def test_an_id_spells_its_body_in_crockford_base32_most_significant_digit_first() -> None:
    value = new_id("inv")
    body = 0
    for char in value.removeprefix("inv_"):
        body = body * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(char)
    # 48 bits of milliseconds (about now), then 80 bits of randomness: 128 bits in 26 digits.
    assert body < 2**128
    assert abs((body >> 80) - time.time() * 1000) < 60_000


def test_a_body_is_spelled_as_base32_of_its_bytes_in_crockfords_digits() -> None:
    # The reference: RFC 4648 base32 of the body in 20 bytes, digit for digit in Crockford's
    # alphabet, its last 26 digits (what ids were spelled with before the ten-bit look-ups).
    crockford = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    rng = random.Random(9)
    bodies = [0, 1, 1023, 1024, 2**80 - 1, 2**80, 2**127, 2**128 - 1]
    bodies += [rng.getrandbits(128) for _ in range(2_000)]
    for body in bodies:
        expected = base64.b32encode(body.to_bytes(20, "big")).translate(crockford)[-26:].decode()
        assert _spelled(body) == expected, body
