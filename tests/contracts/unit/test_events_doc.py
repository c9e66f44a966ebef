"""The committed page of topics and events matches the contracts."""

from __future__ import annotations

from libs.contracts.docs import DOC_PATH, render
from libs.contracts.registry import EVENT_TYPES


def test_events_page_is_current() -> None:
    assert DOC_PATH.exists(), "docs/events.md is missing: run `make contracts-docs`"
    assert DOC_PATH.read_text() == render(), "docs/events.md is stale: run `make contracts-docs`"


def test_every_event_type_is_past_tense_and_on_a_known_topic() -> None:
    from libs.contracts.topics import ALL_TOPICS

    # Tests and benchmarks register throwaway types of their own; only the contracts count.
    product_specs = [s for s in EVENT_TYPES.values() if s.model.__module__.startswith("libs.contracts.")]
    assert product_specs
    for spec in product_specs:
        assert spec.topic in ALL_TOPICS, spec.type
        assert "." in spec.type and spec.type == spec.type.lower(), spec.type
