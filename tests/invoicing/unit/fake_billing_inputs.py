"""The in-memory read model of billing inputs: what its SQL tables would hold, answering as
`invoicing.repository.billing_inputs` does (the same assembly, `assemble_billing_inputs`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from invoicing.domain.billing_inputs import (
    BilledCharge,
    BillingAccount,
    BillingInputs,
    FulfilledCharge,
    OneTimeCharge,
    PendingAdjustment,
    RatedUsageCharge,
)
from invoicing.domain.read_model import (
    ApprovedOrderLine,
    CatalogProduct,
    PriceTerms,
    ReadModelRecords,
    SubscriptionRecord,
    assemble_billing_inputs,
    invoiced_account_id,
    is_invoiced_itself,
)
from invoicing.handlers.billing_inputs import BillingInputsReadModel


@dataclass
class BillingInputsStore:
    """The read model's rows: each table as a dict by its key."""

    accounts: dict[str, tuple[BillingAccount, datetime]] = field(default_factory=dict)
    subscription_versions: dict[str, SubscriptionRecord] = field(default_factory=dict)
    rated_usage: dict[str, tuple[RatedUsageCharge, datetime]] = field(default_factory=dict)
    fulfillment_lines: dict[tuple[str, str], FulfilledCharge] = field(default_factory=dict)
    one_time_charges: dict[str, OneTimeCharge] = field(default_factory=dict)
    order_lines: dict[str, ApprovedOrderLine] = field(default_factory=dict)
    prices: dict[tuple[str, int], PriceTerms] = field(default_factory=dict)
    products: dict[str, tuple[CatalogProduct, datetime]] = field(default_factory=dict)


class FakeBillingInputsReadModel(BillingInputsReadModel):
    """The read model on a `BillingInputsStore` (writes are seen at once: the fake has no rollback)."""

    def __init__(self, store: BillingInputsStore) -> None:
        self.store = store

    async def account_event_at(self, account_id: str) -> datetime | None:
        kept = self.store.accounts.get(account_id)
        return None if kept is None else kept[1]

    async def save_account(self, account: BillingAccount, *, event_at: datetime) -> None:
        self.store.accounts[account.account_id] = (account, event_at)

    async def add_subscription_version(self, record: SubscriptionRecord) -> bool:
        if record.event_id in self.store.subscription_versions:
            return False
        self.store.subscription_versions[record.event_id] = record
        return True

    async def save_rated_usage(self, rated: Sequence[tuple[RatedUsageCharge, datetime]]) -> int:
        kept = 0
        for usage, rated_at in rated:
            stored = self.store.rated_usage.get(usage.rated_usage_id)
            if stored is None or rated_at > stored[1]:
                self.store.rated_usage[usage.rated_usage_id] = (usage, rated_at)
                kept += 1
        return kept

    async def add_fulfillment(self, lines: Sequence[FulfilledCharge]) -> bool:
        if not lines or any(key[0] == lines[0].fulfillment_id for key in self.store.fulfillment_lines):
            return False
        for line in lines:
            self.store.fulfillment_lines[(line.fulfillment_id, line.order_line_id)] = line
        return True

    async def add_one_time_charge(self, charge: OneTimeCharge) -> bool:
        if charge.charge_id in self.store.one_time_charges:
            return False
        self.store.one_time_charges[charge.charge_id] = charge
        return True

    async def add_order_lines(self, lines: Sequence[ApprovedOrderLine]) -> int:
        new = [line for line in lines if line.order_line_id not in self.store.order_lines]
        self.store.order_lines.update({line.order_line_id: line for line in new})
        return len(new)

    async def save_price_terms(self, terms: PriceTerms) -> None:
        self.store.prices[(terms.price_id, terms.version)] = terms

    async def product_event_at(self, product_id: str) -> datetime | None:
        kept = self.store.products.get(product_id)
        return None if kept is None else kept[1]

    async def save_product(self, product: CatalogProduct, *, event_at: datetime) -> None:
        self.store.products[product.product_id] = (product, event_at)

    async def find_account(self, account_id: str) -> BillingAccount | None:
        kept = self.store.accounts.get(account_id)
        return None if kept is None else kept[0]

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[BillingAccount]:
        # The fake keeps no billing marks: every account may be due.
        accounts = sorted(
            (account for account, _ in self.store.accounts.values() if is_invoiced_itself(account)),
            key=lambda a: a.account_id,
        )
        return [a for a in accounts if after_account_id is None or a.account_id > after_account_id][:limit]

    async def billing_inputs(
        self,
        account_ids: Collection[str],
        *,
        billed: Mapping[str, Sequence[BilledCharge]] | None = None,
        adjustments: Mapping[str, Sequence[PendingAdjustment]] | None = None,
    ) -> dict[str, BillingInputs]:
        everyone = {account_id: account for account_id, (account, _) in self.store.accounts.items()}
        wanted = set(account_ids)
        accounts = {
            account_id: account
            for account_id, account in everyone.items()
            if account_id in wanted or invoiced_account_id(account_id, everyone) in wanted
        }
        records = ReadModelRecords(
            accounts=accounts,
            subscriptions=list(self.store.subscription_versions.values()),
            rated_usage=[usage for usage, _ in self.store.rated_usage.values()],
            fulfillments=list(self.store.fulfillment_lines.values()),
            one_time_charges=list(self.store.one_time_charges.values()),
            order_lines=list(self.store.order_lines.values()),
            prices=self.store.prices,
            products={product_id: product for product_id, (product, _) in self.store.products.items()},
        )
        return assemble_billing_inputs(account_ids, records, billed=billed, adjustments=adjustments)

    async def watermark_versions(self, account_ids: Collection[str]) -> dict[str, int]:
        return {}  # no marks (see accounts_page)

    async def mark_billed_through(self, versions: Mapping[str, int], through: date) -> int:
        return 0

    async def product_tax_codes(self, product_ids: Collection[str]) -> dict[str, str]:
        return {
            product_id: kept[0].tax_code
            for product_id in product_ids
            if (kept := self.store.products.get(product_id)) is not None
        }
