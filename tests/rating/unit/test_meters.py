"""Meters: what a meter counts (its filter), the distinct values it counts, and what may change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.platform.errors import ValidationFailed
from rating.domain.meters import Aggregation, Meter, property_text

NOW = datetime(2026, 7, 1, tzinfo=UTC)


def _meter(aggregation: Aggregation = Aggregation.SUM, **fields: object) -> Meter:
    values: dict[str, object] = {
        "id": "mtr_1",
        "code": "api_calls",
        "name": "API calls",
        "unit_of_measure": "call",
        "aggregation": aggregation,
        "property": None,
        "filter": None,
        "product_id": "prod_api",
        "now": NOW,
    }
    values.update(fields)
    return Meter.create(**values)  # type: ignore[arg-type]


def test_a_meter_without_a_filter_counts_every_event() -> None:
    assert _meter().admits({}) and _meter().admits({"region": "eu"})


def test_a_filter_admits_only_events_whose_every_listed_property_holds_an_allowed_value() -> None:
    meter = _meter(filter={"region": frozenset({"eu", "us"}), "tier": frozenset({"gold"})})
    assert meter.admits({"region": "eu", "tier": "gold", "user": "u-1"})
    assert not meter.admits({"region": "apac", "tier": "gold"})
    assert not meter.admits({"region": "eu"})  # tier missing
    assert not meter.admits({})


def test_filters_compare_values_as_text() -> None:
    meter = _meter(filter={"plan": frozenset({"42"}), "beta": frozenset({"true"})})
    assert meter.admits({"plan": 42, "beta": True})
    assert meter.admits({"plan": "42", "beta": "true"})
    assert not meter.admits({"plan": 42, "beta": False})
    assert not meter.admits({"plan": 1, "beta": True})
    assert [property_text(v) for v in (True, False, 7, -3, "x")] == ["true", "false", "7", "-3", "x"]


def test_a_unique_count_meter_counts_the_text_of_its_property() -> None:
    meter = _meter(Aggregation.UNIQUE_COUNT, property="user")
    assert meter.distinct_value({"user": "u-1"}) == "u-1"
    assert meter.distinct_value({"user": 17}) == "17"
    assert meter.distinct_value({"region": "eu"}) is None


def test_a_unique_count_meter_names_its_property_and_no_other_meter_does() -> None:
    with pytest.raises(ValidationFailed) as missing:
        _meter(Aggregation.UNIQUE_COUNT)
    assert missing.value.errors[0].field == "property"
    with pytest.raises(ValidationFailed) as extra:
        _meter(Aggregation.MAX, property="user")
    assert extra.value.errors[0].field == "property"


def test_name_filter_and_activity_change_code_and_aggregation_never() -> None:
    meter = _meter(filter={"region": frozenset({"eu"})})
    later = datetime(2026, 7, 2, tzinfo=UTC)
    diff = meter.update({"name": "Calls", "active": False, "filter": None}, now=later)
    assert diff == {
        "name": {"before": "API calls", "after": "Calls"},
        "active": {"before": True, "after": False},
        "filter": {"before": {"region": ["eu"]}, "after": None},
    }
    assert meter.filter is None and not meter.active and meter.updated_at == later
    assert meter.update({"name": "Calls"}, now=later) == {}  # nothing changed
    with pytest.raises(ValidationFailed) as refused:
        meter.update({"aggregation": "max", "code": "other", "name": None}, now=later)
    assert sorted((e.field, e.code) for e in refused.value.errors) == [
        ("aggregation", "immutable"),
        ("code", "immutable"),
        ("name", "invalid"),
    ]
