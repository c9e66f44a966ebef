"""The one envelope every message on the bus travels in (DESIGN §4).

Producers set `event_id` and `occurred_at` themselves (`libs.platform.outbox.build_envelope`):
an envelope never invents them, because a consumer deduplicates on the id, and an id made up
on parsing would differ on every redelivery. A timestamp without a time zone is refused.
"""

from __future__ import annotations

import builtins
import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventPayload(BaseModel):
    """Base of every typed payload: frozen, unknown fields ignored so producers can add some."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel):
    """Metadata around one event; `payload` is the JSON of a model from `libs.contracts`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(
        description="Set by the producer, unique per event; consumers deduplicate on it."
    )
    type: str = Field(description="Dotted event type, past tense.", examples=["subscription.activated"])
    schema_version: int = Field(default=1, ge=1, description="Bumped on a breaking payload change.")
    occurred_at: AwareDatetime = Field(description="Time of the change, with its time zone (UTC).")
    producer: str = Field(description="Service that emitted the event.", examples=["catalog"])
    correlation_id: str | None = Field(
        default=None, description="Id of the request or flow that started it all."
    )
    causation_id: str | None = Field(
        default=None, description="event_id or request id that caused this event."
    )
    key: str = Field(
        description="Partition key, usually the account id; keeps one account's events in order."
    )
    payload: dict[str, Any] = Field(description="The typed payload, as JSON.")

    def payload_as(self, model: builtins.type[EventPayload]) -> Any:
        """Parse the payload into its typed contract model."""
        return model.model_validate(self.payload)

    def to_bytes(self) -> bytes:
        """Wire form: UTF-8 JSON."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse the wire form."""
        return cls.model_validate_json(data)
