"""Schemas of every message that crosses a service boundary, the envelope and the topics.

Importing this package registers every event type (see `registry.EVENT_TYPES`).
"""

from libs.contracts import (  # noqa: F401
    balances,
    bill_runs,
    catalog,
    collections,
    envelope,
    invoicing,
    overage,
    payments,
    provisioning,
    registry,
    revenue,
    support,
    topics,
    usage,
    vendor_payables,
)
