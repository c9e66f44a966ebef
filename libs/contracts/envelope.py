"""The one envelope every message on the bus travels in (DESIGN §4)."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventPayload(BaseModel):
    """Base of every typed payload: frozen, unknown fields ignored so producers can add some."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel):
    """Metadata around one event; `payload` is the JSON of a model from `libs.contracts`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="Unique per event; consumers deduplicate on it."
    )
    type: str = Field(description="Dotted event type, past tense.", examples=["subscription.activated"])
    schema_version: int = Field(default=1, ge=1, description="Bumped on a breaking payload change.")
    occurred_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), description="UTC time of the change."
    )
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
