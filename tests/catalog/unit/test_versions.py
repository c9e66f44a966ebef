"""Effective-dated versions: which is in force, and the window of the next one."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.domain.versions import (
    NoVersionInForce,
    VersionWindow,
    first_window,
    is_in_force,
    next_window,
    version_in_force,
)
from libs.platform.errors import ValidationFailed

V1 = VersionWindow(1, date(2026, 1, 1), date(2026, 7, 1))
V2 = VersionWindow(2, date(2026, 7, 1), None)


def test_ranges_are_half_open() -> None:
    assert is_in_force(V1, date(2026, 6, 30))
    assert not is_in_force(V1, date(2026, 7, 1))
    assert is_in_force(V2, date(2026, 7, 1))
    assert version_in_force([V1, V2], date(2099, 1, 1), entity="price", entity_id="p") is V2


def test_nothing_in_force_before_the_first_version() -> None:
    with pytest.raises(NoVersionInForce) as missing:
        version_in_force([V1, V2], date(2025, 12, 31), entity="price", entity_id="price_x")
    assert missing.value.status == 404
    assert "2025-12-31" in missing.value.detail


def test_next_version_starts_after_the_latest_and_numbers_up() -> None:
    assert next_window(V2, date(2027, 1, 1), None) == VersionWindow(3, date(2027, 1, 1), None)
    for start in (date(2026, 7, 1), date(2026, 6, 1)):
        with pytest.raises(ValidationFailed) as refused:
            next_window(V2, start, None)
        assert [e.field for e in refused.value.errors] == ["effective_from"]


def test_an_end_must_follow_the_start() -> None:
    with pytest.raises(ValidationFailed):
        first_window(date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(ValidationFailed) as refused:
        next_window(V2, date(2027, 1, 1), date(2026, 12, 31))
    assert [e.field for e in refused.value.errors] == ["effective_to"]
