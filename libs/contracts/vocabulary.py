"""The business vocabulary shared by every service, defined once (issue 7 item 4).

Contracts, REST schemas, domain code and `libs.pricing` all use these enums, so a word means
the same thing everywhere and a new value is added in one place. They are `StrEnum`s: on the
wire each is its plain string value, unchanged from when the fields were loose strings.

"Billing frequency" is how often something is billed (monthly, quarterly, annual, or once per
term); a "billing period" is a date range (`libs.platform.periods.BillingPeriod`). Field names
on the wire (`billing_period`) keep their historical name and carry a `BillingFrequency`.

Stdlib only: `libs.pricing` and `libs.platform` import this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class ProductKind(StrEnum):
    """What kind of thing is sold."""

    LICENSE = "license"
    PLATFORM = "platform"
    WORKSHOP = "workshop"
    SERVICE = "service"
    SUPPORT = "support"
    USAGE = "usage"


class LicenseType(StrEnum):
    """How the right to use a product is sold and consumed; `none` for plain services."""

    COMMITTED = "committed"
    PAY_AS_YOU_GO = "pay_as_you_go"
    NAMED_USER = "named_user"
    SUBSCRIPTION = "subscription"
    NONE = "none"


class RevenueRule(StrEnum):
    """When revenue of a product is recognised."""

    RATABLE = "ratable"
    ON_FULFILLMENT = "on_fulfillment"
    ON_INVOICE = "on_invoice"


class ChargeType(StrEnum):
    """When a price is charged: every period, per measured usage, or once."""

    RECURRING = "recurring"
    USAGE = "usage"
    ONE_TIME = "one_time"


class BillingTiming(StrEnum):
    """Whether a period is billed at its start or its end."""

    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class PricingModel(StrEnum):
    """How a quantity turns into an amount."""

    FLAT = "flat"
    PER_UNIT = "per_unit"
    TIERED_GRADUATED = "tiered_graduated"
    TIERED_VOLUME = "tiered_volume"
    PACKAGE = "package"
    COST_PLUS = "cost_plus"


class TierMode(StrEnum):
    """How a vendor cost book's tiers apply. Graduated: each band's units at the band's price;
    volume: all units at the band of the total."""

    GRADUATED = "graduated"
    VOLUME = "volume"


class ContractKind(StrEnum):
    """How a support contract is bounded (seed 004, EXAMPLES §5)."""

    SUBSCRIPTION = "subscription"  # a period
    TIME_LIMITED = "time_limited"  # a period or N hours, whichever ends first
    SUPPORT_HOURS = "support_hours"  # N hours
    PER_INCIDENT = "per_incident"  # one request, from its opening to its closing

    @property
    def has_period(self) -> bool:
        """True when a contract of this kind ends with a period of months."""
        return self in (ContractKind.SUBSCRIPTION, ContractKind.TIME_LIMITED)

    @property
    def has_hours(self) -> bool:
        """True when a contract of this kind grants a number of support hours."""
        return self in (ContractKind.TIME_LIMITED, ContractKind.SUPPORT_HOURS)


class ExpiryOption(StrEnum):
    """What happens to time logged on a request once its support contract has expired."""

    ROLLOVER = "rollover"  # applied to the next valid contract
    IGNORE = "ignore"  # not covered by any contract


class TermLengthUnknown(ValueError):
    """Asked the fixed length of a frequency that has none (`term`: its length is the term's)."""


# Months in one period of each fixed frequency, keyed by the shared string value so that
# BillingFrequency and TierPeriod agree by construction.
_FIXED_MONTHS: Final = {"monthly": 1, "quarterly": 3, "annual": 12}


class BillingFrequency(StrEnum):
    """How often a recurring or usage price is billed; `term` once for the whole term."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    TERM = "term"

    @property
    def is_fixed(self) -> bool:
        """True for monthly, quarterly and annual: a length known without a term."""
        return self.value in _FIXED_MONTHS

    @property
    def months(self) -> int:
        """Months in one period; raises `TermLengthUnknown` for `term` (ask the term instead)."""
        try:
            return _FIXED_MONTHS[self.value]
        except KeyError:
            raise TermLengthUnknown(
                "a price billed per term has no fixed length: its period is the term's months"
            ) from None


class TierPeriod(StrEnum):
    """The period a vendor cost book's tier prices are for (never a term: a vendor list is
    per month, quarter or year)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        """Length of the period in months."""
        return _FIXED_MONTHS[self.value]


__all__ = [
    "BillingFrequency",
    "BillingTiming",
    "ChargeType",
    "ContractKind",
    "ExpiryOption",
    "LicenseType",
    "PricingModel",
    "ProductKind",
    "RevenueRule",
    "TermLengthUnknown",
    "TierMode",
    "TierPeriod",
]
