"""Partners and deal registrations publish nothing: a converted deal is announced by the
customer, the account and (once submitted) the order it became."""

from __future__ import annotations

from typing import Any

from provisioning.events.common import Outgoing, taken


def contracts_of(record: Any) -> list[Outgoing]:
    """No contracts; the recorded events are taken so none lingers on the aggregate."""
    taken(record)
    return []
