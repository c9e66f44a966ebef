"""The committed page of topics and events matches the contracts."""

from __future__ import annotations

import pytest

from libs.contracts.docs import DOC_PATH, render
from libs.contracts.registry import EVENT_TYPES

# Past participles that do not end in -ed, and particles that may follow one
# ("invoice.paid", "invoice.written_off").
IRREGULAR_PAST = frozenset(
    {
        "paid",
        "sent",
        "written",
        "built",
        "made",
        "held",
        "sold",
        "bought",
        "set",
        "run",
        "agreed",
        "freed",
        "kept",
    }
)
PARTICLES = frozenset({"off", "out", "up", "back", "down", "over"})


def is_past_tense(event_type: str) -> bool:
    """True when the verb part of `entity.verb_phrase` is a past participle (`order.approved`)."""
    _, _, verb = event_type.rpartition(".")
    words = [w for w in verb.split("_") if w]
    while len(words) > 1 and words[-1] in PARTICLES:
        words.pop()
    if not words:
        return False
    last = words[-1]
    # "need", "exceed" end in -ed but are not past participles.
    return last in IRREGULAR_PAST or (last.endswith("ed") and not last.endswith("eed") and len(last) > 3)


def test_events_page_is_current() -> None:
    assert DOC_PATH.exists(), "docs/events.md is missing: run `make contracts-docs`"
    assert DOC_PATH.read_text() == render(), "docs/events.md is stale: run `make contracts-docs`"


@pytest.mark.parametrize(
    ("event_type", "past"),
    [
        ("order.approved", True),
        ("collections.suspend_requested", True),
        ("invoice.paid", True),
        ("invoice.written_off", True),
        ("subscription.activate", False),
        ("invoice.pay", False),
        ("usage.rate", False),
        ("usage.rated_batch", False),
        ("order.need", False),
        ("quota.exceed", False),
        ("contract.agreed", True),
    ],
)
def test_the_past_tense_rule_tells_a_past_participle(event_type: str, past: bool) -> None:
    assert is_past_tense(event_type) is past


def test_every_event_type_is_past_tense_and_on_a_known_topic() -> None:
    from libs.contracts.topics import ALL_TOPICS

    # Tests and benchmarks register throwaway types of their own; only the contracts count.
    product_specs = [s for s in EVENT_TYPES.values() if s.model.__module__.startswith("libs.contracts.")]
    assert product_specs
    for spec in product_specs:
        assert spec.topic in ALL_TOPICS, spec.type
        assert "." in spec.type and spec.type == spec.type.lower(), spec.type
        assert is_past_tense(spec.type), f"{spec.type} is not named in the past tense"
