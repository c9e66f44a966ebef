"""The read model of billing inputs: its port, and the handlers of the events it is kept from.

Each handler applies one event of `provisioning.events`, `rating.events` or `catalog.events` on a
unit of work built on the consumer's transaction (`invoicing.consumers`), so the effect and the
inbox entry commit together. Beyond the inbox, every kind of record is idempotent by itself, so
a replayed outbox (a rebuilt read model) changes nothing twice:

- accounts and products keep their latest state; an event older (by `occurred_at`) than the one
  applied changes nothing;
- every subscription event is kept as one version, keyed by the envelope's `event_id`;
- a `usage.rated` is kept by `rated_usage_id`: rating publishes one per closed period and never
  re-rates an id (late usage is rated into the next period under a new id), so the same id again
  is a redelivery; should rating ever re-publish an id with a later `rated_at`, it replaces the
  kept one (an older one changes nothing);
- a fulfillment's lines, an order's approved lines and a cancellation's termination fee are
  kept once (the first time wins: they are facts that do not change);
- a catalog price version is kept by (price id, version).

- an overage re-bill (`overage.rebill_requested`, `OneTimeChargeKind.OVERAGE_REBILL`) is kept
  once by its `charge_key` (the overage service's stable key of one vendor notice's charge): the
  amount is the overage service's, already rounded (cost-plus math in `libs.pricing.resold`).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from invoicing.domain.billing_inputs import (
    AccountTaxStatus,
    BilledCharge,
    BillingAccount,
    BillingInputs,
    FulfilledCharge,
    OneTimeCharge,
    OneTimeChargeKind,
    PendingAdjustment,
    RatedUsageCharge,
    SubscriptionVersion,
    TaxTreatment,
)
from invoicing.domain.invoices import DEFAULT_LOCALE
from invoicing.domain.read_model import (
    ApprovedOrderLine,
    CatalogProduct,
    PriceTerms,
    SubscriptionRecord,
    termination_fee_charge_id,
)
from invoicing.handlers import bill_runs
from invoicing.handlers.account_billing import invoiced_account
from libs.contracts.catalog import PricePublished, ProductChanged
from libs.contracts.overage import OverageRebillRequested
from libs.contracts.provisioning import (
    AccountProfile,
    FulfillmentCompleted,
    OrderApproved,
    SubscriptionCancelled,
    SubscriptionEvent,
)
from libs.contracts.usage import UsageRated

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


class BillingInputsReadModel(abc.ABC):
    """Stored billing inputs (the port; SQL in `invoicing.repository.billing_inputs`)."""

    # --- what the consumers write ----------------------------------------------------------

    @abc.abstractmethod
    async def account_event_at(self, account_id: str) -> datetime | None:
        """When the account's last applied event occurred (None: unknown account)."""

    @abc.abstractmethod
    async def save_account(self, account: BillingAccount, *, event_at: datetime) -> None:
        """Insert or replace an account's billing profile."""

    @abc.abstractmethod
    async def add_subscription_version(self, record: SubscriptionRecord) -> bool:
        """Keep one subscription event; False (and nothing changed) when its event id is kept already."""

    @abc.abstractmethod
    async def save_rated_usage(self, rated: Sequence[tuple[RatedUsageCharge, datetime]]) -> int:
        """Keep each (rated usage, rated at) unless one of its id rated then or later is kept; how many kept.

        Rated usage comes a batch message at a time: one read and one insert for all of them.
        """

    @abc.abstractmethod
    async def add_fulfillment(self, lines: Sequence[FulfilledCharge]) -> bool:
        """Keep a completed fulfillment's lines; False when that fulfillment is kept already."""

    @abc.abstractmethod
    async def add_one_time_charge(self, charge: OneTimeCharge) -> bool:
        """Keep a one-time charge; False when one of its `charge_id` is kept already."""

    @abc.abstractmethod
    async def add_order_lines(self, lines: Sequence[ApprovedOrderLine]) -> int:
        """Keep an approved order's lines (those not kept yet); how many were new."""

    @abc.abstractmethod
    async def save_price_terms(self, terms: PriceTerms) -> None:
        """Insert or replace a catalog price version's terms."""

    @abc.abstractmethod
    async def product_event_at(self, product_id: str) -> datetime | None:
        """When the product's last applied event occurred (None: unknown product)."""

    @abc.abstractmethod
    async def save_product(self, product: CatalogProduct, *, event_at: datetime) -> None:
        """Insert or replace a product's name and tax code."""

    # --- what bill runs read -----------------------------------------------------------------

    @abc.abstractmethod
    async def find_account(self, account_id: str) -> BillingAccount | None:
        """One account's billing profile, if the read model holds it (statements look accounts up)."""

    @abc.abstractmethod
    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[BillingAccount]:
        """Up to `limit` accounts with their own invoice (not billing to a parent), by id, after one;
        with `due_on`, only those not marked billed through that date (see `mark_billed_through`)."""

    async def account_ids_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        """The ids of `accounts_page` (a bill run's enumeration needs no more)."""
        page = await self.accounts_page(after_account_id, limit, due_on=due_on)
        return [account.account_id for account in page]

    @abc.abstractmethod
    async def watermark_versions(self, account_ids: Collection[str]) -> dict[str, int]:
        """The version of each account's billing mark, read with its inputs by a chunk. Every write
        above that can bring an account (or the account it bills to) a charge clears its mark and
        bumps the version, in the write's transaction."""

    @abc.abstractmethod
    async def mark_billed_through(self, versions: Mapping[str, int], through: date) -> int:
        """Mark each account billed through `through` (nothing due through it), only where its version
        is still the one given — a charge kept meanwhile wins; how many were marked."""

    @abc.abstractmethod
    async def billing_inputs(
        self,
        account_ids: Collection[str],
        *,
        billed: Mapping[str, Sequence[BilledCharge]] | None = None,
        adjustments: Mapping[str, Sequence[PendingAdjustment]] | None = None,
    ) -> dict[str, BillingInputs]:
        """The billing inputs of each of these accounts invoiced itself, its children billing to it merged.

        Read with one query per kind of record for the whole chunk (one more per level of the
        account hierarchy). `billed` and `adjustments`, keyed by invoiced account, are what
        invoicing's own invoice lines (by charge key) and pending adjustments add: the read model
        does not hold them, the bill run passes them in. An account billing to its parent, or
        unknown, is left out (see `invoicing.domain.read_model.assemble_billing_inputs`).
        """

    @abc.abstractmethod
    async def product_tax_codes(self, product_ids: Collection[str]) -> dict[str, str]:
        """The catalog tax code of each known product of these ids."""


def billing_account_of(profile: AccountProfile) -> BillingAccount:
    """The billing profile an account event carries."""
    billing_email = next((c.email for c in profile.contacts if c.role == "billing"), None)
    crm_owner = next((c for c in profile.contacts if c.role == "crm_owner"), None)
    tax = profile.tax
    return BillingAccount(
        account_id=profile.account_id,
        customer_id=profile.customer_id,
        name=profile.name,
        currency=profile.currency,
        bill_cycle_day=profile.bill_cycle_day,
        time_zone=profile.time_zone,
        payment_terms_days=profile.payment_terms_days,
        parent_account_id=profile.parent_account_id,
        bills_to_parent=profile.bills_to_parent,
        tax=AccountTaxStatus(
            treatment=TaxTreatment(tax.treatment),
            certificate_number=tax.certificate_number,
            certificate_expiry=tax.certificate_expiry,
            country=tax.country,
            region=tax.region,
            postal_code=tax.postal_code,
        ),
        billing_email=billing_email,
        locale=profile.locale or DEFAULT_LOCALE,
        crm_owner_name=None if crm_owner is None else crm_owner.name[:200],
        crm_owner_email=None if crm_owner is None else crm_owner.email[:320],
    )


def subscription_record_of(
    event: SubscriptionEvent, *, event_id: str, occurred_at: datetime, event_kind: str
) -> SubscriptionRecord:
    """The version a subscription event starts, with the subscription's terms."""
    return SubscriptionRecord(
        event_id=event_id,
        event_at=occurred_at,
        event_kind=event_kind,
        subscription_id=event.subscription_id,
        account_id=event.account_id,
        product_id=event.product_id,
        currency=event.currency,
        charge_type=event.charge_type,
        billing_period=event.billing_period,
        billing_timing=event.billing_timing,
        version=SubscriptionVersion(
            effective_date=event.effective_date,
            state=event.state,
            quantity=Decimal(event.quantity),
            unit_price=Decimal(event.unit_price),
            discount_percent=Decimal(event.discount_percent),
            price_id=event.price_id,
            price_version=event.price_version,
            term_start=event.term_start,
            term_end=event.term_end,
        ),
    )


def rated_usage_of(event: UsageRated) -> RatedUsageCharge:
    """The charge a `usage.rated` bills."""
    return RatedUsageCharge(
        rated_usage_id=event.rated_usage_id,
        subscription_id=event.subscription_id,
        account_id=event.account_id,
        product_id=event.product_id,
        meter=event.meter,
        unit_of_measure=event.unit_of_measure,
        period_start=event.period_start,
        period_end=event.period_end,
        quantity=Decimal(event.quantity),
        billable_quantity=Decimal(event.billable_quantity),
        currency=event.currency,
        price_id=event.price_id,
        price_version=event.price_version,
        charge_amount=event.charge_amount,
        minimum_shortfall=event.minimum_shortfall,
        prepaid_amount=event.prepaid_amount,
        amount=event.amount,
        late_quantity=Decimal(event.late_quantity),
    )


async def apply_account_event(
    *, uow: InvoicingUnitOfWork, profile: AccountProfile, occurred_at: datetime
) -> bool:
    """Keep the account's billing profile unless a newer event was applied; True when applied."""
    applied_at = await uow.billing_inputs.account_event_at(profile.account_id)
    if applied_at is not None and occurred_at < applied_at:
        return False
    await uow.billing_inputs.save_account(billing_account_of(profile), event_at=occurred_at)
    await uow.commit()
    return True


async def apply_subscription_event(
    *,
    uow: InvoicingUnitOfWork,
    event: SubscriptionEvent,
    event_id: str,
    occurred_at: datetime,
    event_kind: str,
) -> bool:
    """Keep the event as a version of its subscription (once); a cancellation's fee as a one-time charge."""
    record = subscription_record_of(event, event_id=event_id, occurred_at=occurred_at, event_kind=event_kind)
    added = await uow.billing_inputs.add_subscription_version(record)
    if isinstance(event, SubscriptionCancelled) and event.termination_fee is not None:
        added = await uow.billing_inputs.add_one_time_charge(_termination_fee(event)) or added
    await uow.commit()
    return added


def _termination_fee(event: SubscriptionCancelled) -> OneTimeCharge:
    fee = event.termination_fee
    assert fee is not None
    return OneTimeCharge(
        charge_id=termination_fee_charge_id(event.subscription_id),
        kind=OneTimeChargeKind.TERMINATION_FEE,
        account_id=event.account_id,
        currency=fee.currency,
        charge_date=event.effective_date,
        description=f"Early termination fee ({event.subscription_id})",
        quantity=Decimal(1),
        unit_price=fee.amount,
        amount=fee.amount,
        subscription_id=event.subscription_id,
        product_id=event.product_id,
        price_id=fee.price_id,
        price_version=fee.price_version,
        source_id=event.subscription_id,
    )


async def apply_overage_rebill(*, uow: InvoicingUnitOfWork, event: OverageRebillRequested) -> bool:
    """Keep a vendor overage re-bill as a one-time charge of the next monthly run (once per charge key)."""
    added = await uow.billing_inputs.add_one_time_charge(overage_rebill_charge(event))
    await uow.commit()
    return added


def overage_rebill_charge(event: OverageRebillRequested) -> OneTimeCharge:
    """The one-time charge of a re-bill: the period and counts on the line's description."""
    period = event.period_start.strftime("%Y-%m")
    description = (
        f"License overage {period}: {event.actual_count} users, {event.licensed_count} licensed, "
        f"{event.overage_count} over (vendor tenant {event.tenant_id})"
    )
    return OneTimeCharge(
        charge_id=event.charge_key,
        kind=OneTimeChargeKind.OVERAGE_REBILL,
        account_id=event.account_id,
        currency=event.currency,
        charge_date=event.requested_on,
        description=description[:300],
        quantity=Decimal(event.overage_count),
        unit_price=Decimal(event.unit_price),
        amount=Decimal(event.amount),
        subscription_id=event.subscription_id,
        source_id=event.case_id,
    )


async def apply_usage_rated(*, uow: InvoicingUnitOfWork, events: Sequence[UsageRated]) -> int:
    """Keep rated usage, a batch at a time (see the module on a second rating of one id); how many kept."""
    kept = await uow.billing_inputs.save_rated_usage([(rated_usage_of(e), e.rated_at) for e in events])
    await uow.commit()
    return kept


async def apply_fulfillment_completed(*, uow: InvoicingUnitOfWork, event: FulfillmentCompleted) -> bool:
    """Keep every line of a completed fulfillment, billed at once by the next run of its account."""
    lines = [
        FulfilledCharge(
            fulfillment_id=event.fulfillment_id,
            order_line_id=line.order_line_id,
            order_id=event.order_id,
            account_id=event.account_id,
            product_id=line.product_id,
            currency=event.currency,
            completed_on=event.completed_on,
            billable_quantity=Decimal(line.billable_quantity),
            unit_price=Decimal(line.unit_price),
            discount_percent=Decimal(line.discount_percent),
            associated_project_id=event.associated_project_id,
        )
        for line in event.lines
    ]
    added = await uow.billing_inputs.add_fulfillment(lines)
    if added:
        # Invoiced at once: an on-demand run of the account whose invoice carries its charges.
        await bill_runs.bill_fulfillment(
            uow,
            fulfillment_id=event.fulfillment_id,
            account_id=await invoiced_account(uow, event.account_id),
            bill_date=event.completed_on,
        )
    await uow.commit()
    return added


async def apply_order_approved(
    *, uow: InvoicingUnitOfWork, event: OrderApproved, occurred_at: datetime
) -> int:
    """Keep an approved order's lines: those whose catalog price is one-time become order fees."""
    lines = [
        ApprovedOrderLine(
            order_id=event.order_id,
            order_line_id=line.order_line_id,
            account_id=event.account_id,
            currency=event.currency,
            approved_at=occurred_at,
            product_id=line.product_id,
            price_id=line.price_id,
            price_version=line.price_version,
            quantity=Decimal(line.quantity),
            unit_price=Decimal(line.unit_price),
            discount_percent=Decimal(line.discount_percent),
            license_type=line.license_type,
            subscription_id=line.subscription_id,
        )
        for line in event.lines
    ]
    added = await uow.billing_inputs.add_order_lines(lines)
    await uow.commit()
    return added


async def apply_price_published(*, uow: InvoicingUnitOfWork, event: PricePublished) -> None:
    """Keep a price version's charge type, frequency and timing (what order lines and subscriptions lack)."""
    await uow.billing_inputs.save_price_terms(
        PriceTerms(
            price_id=event.price_id,
            version=event.version,
            product_id=event.product_id,
            currency=event.currency,
            charge_type=event.charge_type,
            billing_period=event.billing_period,
            timing=event.timing,
        )
    )
    await uow.commit()


async def apply_product_changed(
    *, uow: InvoicingUnitOfWork, event: ProductChanged, occurred_at: datetime
) -> bool:
    """Keep a product's name, tax code and revenue rule unless a newer event was applied; True if so."""
    applied_at = await uow.billing_inputs.product_event_at(event.product_id)
    if applied_at is not None and occurred_at < applied_at:
        return False
    await uow.billing_inputs.save_product(
        CatalogProduct(
            product_id=event.product_id,
            name=event.name,
            tax_code=event.tax_code,
            revenue_rule=event.revenue_rule,
        ),
        event_at=occurred_at,
    )
    await uow.commit()
    return True
