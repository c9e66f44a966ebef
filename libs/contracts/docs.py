"""Generates the page of topics and event types from the registry (`make contracts-docs`).

The page is never written by hand; a test fails when the committed copy is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import libs.contracts  # noqa: F401  (registers every event type)
from libs.contracts.envelope import Envelope
from libs.contracts.registry import EVENT_TYPES
from libs.contracts.topics import ALL_TOPICS

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def _schema_block(schema: dict[str, object]) -> str:
    return "```json\n" + json.dumps(schema, indent=2, sort_keys=True) + "\n```\n"


def render() -> str:
    """The Markdown page of topics, event types and payload schemas."""
    out = [
        "# Topics and events\n",
        "Generated from `libs/contracts` by `make contracts-docs`; do not edit by hand.\n",
        "Every message is an envelope (below) whose `payload` is the event type's schema. Delivery is at",
        "least once; consumers deduplicate on `event_id`. Messages are keyed by `key` (usually the account",
        "id), so one account's events stay in order.\n",
        "## Topics\n",
        "| topic | carries |",
        "| --- | --- |",
    ]
    out += [f"| `{name}` | {summary} |" for name, summary in ALL_TOPICS.items()]
    out += ["", "## Envelope\n", _schema_block(Envelope.model_json_schema())]
    out += [
        "## Event types\n",
        "| type | topic | version | payload | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    # Only the product's topics: tests may register throwaway event types of their own.
    specs = sorted(
        (s for s in EVENT_TYPES.values() if s.topic in ALL_TOPICS), key=lambda s: (s.topic, s.type)
    )
    out += [
        f"| `{s.type}` | `{s.topic}` | {s.schema_version} | `{s.model.__name__}` | {s.summary} |"
        for s in specs
    ]
    out.append("")
    for s in specs:
        out += [f"### `{s.type}`\n", f"{s.summary}\n", _schema_block(s.model.model_json_schema())]
    return "\n".join(out)


def main() -> int:
    """Write the page, or with `--check` exit 1 when the committed page is stale."""
    page = render()
    if "--check" in sys.argv:
        current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
        if current != page:
            print(f"{DOC_PATH} is stale: run `make contracts-docs`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(page)
    print(f"wrote {DOC_PATH} ({len(EVENT_TYPES)} event types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
