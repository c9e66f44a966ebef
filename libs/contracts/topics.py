"""Topic names: one per producing service plus `usage.raw` for high-volume ingestion."""

from __future__ import annotations

CATALOG_EVENTS = "catalog.events"
PROVISIONING_EVENTS = "provisioning.events"
RATING_EVENTS = "rating.events"
INVOICING_EVENTS = "invoicing.events"
OVERAGE_EVENTS = "overage.events"
USAGE_RAW = "usage.raw"

ALL_TOPICS: dict[str, str] = {
    CATALOG_EVENTS: "Catalog changes: products, published prices, bundles, discounts, cost books.",
    PROVISIONING_EVENTS: "Customers, accounts, orders, workflows, subscriptions, fulfillments.",
    RATING_EVENTS: "Rated usage, balance thresholds, entitlement decisions.",
    INVOICING_EVENTS: "Invoices, payments, credit notes, collections actions.",
    OVERAGE_EVENTS: "Vendor overage cases and vendor invoices.",
    USAGE_RAW: "Raw usage events in batches, from mediation and apps.",
}
