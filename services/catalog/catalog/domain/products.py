"""What a product is, in the words finance and sales use."""

from __future__ import annotations

from enum import StrEnum


class ProductKind(StrEnum):
    """What kind of thing is sold."""

    LICENSE = "license"
    PLATFORM = "platform"
    WORKSHOP = "workshop"
    SERVICE = "service"
    SUPPORT = "support"
    USAGE = "usage"


class LicenseType(StrEnum):
    """How the right to use a product is sold."""

    COMMITTED = "committed"
    PAY_AS_YOU_GO = "pay_as_you_go"
    NAMED_USER = "named_user"
    SUBSCRIPTION = "subscription"
    NONE = "none"


class RevenueRule(StrEnum):
    """When revenue of the product is recognised."""

    RATABLE = "ratable"
    ON_FULFILLMENT = "on_fulfillment"
    ON_INVOICE = "on_invoice"
