"""The read model of billing inputs in SQL (`invoicing.models.billing_inputs`).

A bill run reads a chunk of accounts at once: `billing_inputs` issues one query per level of the
account hierarchy (the chunk, then the children billing to them, ...) and one query per kind of
record for all of those accounts together, never one per account; the rules that turn the rows
into `BillingInputs` are `invoicing.domain.read_model`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Select, insert
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.billing_inputs import (
    BilledCharge,
    BillingAccount,
    BillingInputs,
    FulfilledCharge,
    OneTimeCharge,
    OneTimeChargeKind,
    PendingAdjustment,
    RatedUsageCharge,
    SubscriptionVersion,
)
from invoicing.domain.read_model import (
    ApprovedOrderLine,
    CatalogProduct,
    PriceTerms,
    ReadModelRecords,
    SubscriptionRecord,
    assemble_billing_inputs,
)
from invoicing.handlers.billing_inputs import BillingInputsReadModel
from invoicing.models.billing_inputs import (
    ApprovedOrderLineRow,
    BillingAccountRow,
    CatalogProductRow,
    FulfillmentLineRow,
    OneTimeChargeRow,
    PriceTermsRow,
    RatedUsageRow,
    SubscriptionVersionRow,
)
from invoicing.repository.billing_accounts import (
    ACCOUNT_COLUMNS,
    ACCOUNTS,
    account_of,
    account_row,
    accounts_where,
    accounts_with_children,
    charged_accounts,
    page_of,
)
from invoicing.repository.billing_watermarks import (
    clear_watermarks,
    clear_watermarks_of,
    ensure_watermark,
    mark_billed_through,
    watermark_versions,
)
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType
from libs.platform.value_sets import in_parameter


@functools.cache
def _optional(enum: Any, value: str | None) -> Any:
    # Memoized: an Enum(value) look-up costs more than the rest of a row's conversion, and a
    # chunk converts thousands of rows holding the same few values (errors are not cached).
    return None if value is None else enum(value)


_VERSIONS: Any = SubscriptionVersionRow.__table__  # type: ignore[attr-defined]
_SUBSCRIPTION_COLUMNS: Final = tuple(
    _VERSIONS.c[name]
    for name in (
        "event_id",
        "event_at",
        "event_kind",
        "subscription_id",
        "account_id",
        "product_id",
        "currency",
        "charge_type",
        "billing_period",
        "billing_timing",
        # Then the version's terms, in `SubscriptionVersion`'s order.
        "effective_date",
        "state",
        "quantity",
        "unit_price",
        "discount_percent",
        "price_id",
        "price_version",
        "term_start",
        "term_end",
    )
)
"""What a subscription event is read from, in the order `subscription_record_of` takes it."""


def subscription_record_of(row: Sequence[Any]) -> SubscriptionRecord:
    """The subscription event a row of `_SUBSCRIPTION_COLUMNS` keeps."""
    (
        event_id,
        event_at,
        event_kind,
        subscription_id,
        account_id,
        product_id,
        currency,
        charge_type,
        billing_period,
        billing_timing,
        *terms,
    ) = row
    return SubscriptionRecord(
        event_id=event_id,
        event_at=event_at,
        event_kind=event_kind,
        subscription_id=subscription_id,
        account_id=account_id,
        product_id=product_id,
        currency=currency,
        charge_type=_optional(ChargeType, charge_type),
        billing_period=_optional(BillingFrequency, billing_period),
        billing_timing=_optional(BillingTiming, billing_timing),
        version=SubscriptionVersion(*terms),
    )


def _subscription_row(record: SubscriptionRecord) -> SubscriptionVersionRow:
    version = record.version
    return SubscriptionVersionRow(
        event_id=record.event_id,
        event_at=record.event_at,
        event_kind=record.event_kind,
        subscription_id=record.subscription_id,
        account_id=record.account_id,
        product_id=record.product_id,
        currency=record.currency,
        charge_type=None if record.charge_type is None else record.charge_type.value,
        billing_period=None if record.billing_period is None else record.billing_period.value,
        billing_timing=None if record.billing_timing is None else record.billing_timing.value,
        effective_date=version.effective_date,
        state=version.state,
        quantity=version.quantity,
        unit_price=version.unit_price,
        discount_percent=version.discount_percent,
        price_id=version.price_id,
        price_version=version.price_version,
        term_start=version.term_start,
        term_end=version.term_end,
    )


def _fields(value: Any, names: Collection[str]) -> dict[str, Any]:
    """The named attributes of a record (the fields its row's columns share the names of)."""
    return {name: getattr(value, name) for name in names}


def _columns_of(table: Any, record_type: Any) -> tuple[Any, ...]:
    """The columns of a kind of record, in the order of its fields (which the columns share)."""
    return tuple(table.c[name] for name in record_type.__dataclass_fields__)


_USAGE_COLUMNS: Final = _columns_of(RatedUsageRow.__table__, RatedUsageCharge)  # type: ignore[attr-defined]
_FULFILLMENT_COLUMNS: Final = _columns_of(FulfillmentLineRow.__table__, FulfilledCharge)  # type: ignore[attr-defined]
_ONE_TIME_COLUMNS: Final = _columns_of(OneTimeChargeRow.__table__, OneTimeCharge)  # type: ignore[attr-defined]
_ORDER_LINE_COLUMNS: Final = _columns_of(ApprovedOrderLineRow.__table__, ApprovedOrderLine)  # type: ignore[attr-defined]
_KIND: Final = tuple(OneTimeCharge.__dataclass_fields__).index("kind")
_LICENSE_TYPE: Final = tuple(ApprovedOrderLine.__dataclass_fields__).index("license_type")


def _one_time_charge_of(row: Sequence[Any]) -> OneTimeCharge:
    values = list(row)
    values[_KIND] = OneTimeChargeKind(values[_KIND])
    return OneTimeCharge(*values)


def _order_line_of(row: Sequence[Any]) -> ApprovedOrderLine:
    values = list(row)
    values[_LICENSE_TYPE] = LicenseType(values[_LICENSE_TYPE])
    return ApprovedOrderLine(*values)


def _price_terms_of(row: PriceTermsRow) -> PriceTerms:
    return PriceTerms(
        price_id=row.price_id,
        version=row.version,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=ChargeType(row.charge_type),
        billing_period=_optional(BillingFrequency, row.billing_period),
        timing=BillingTiming(row.timing),
    )


def _read(columns: Sequence[Any], key: str) -> Any:
    """The statement reading `columns` of the rows whose column `key` is one of the parameter `ids`:
    built once (`in_parameter`), not at every chunk with its cache key."""
    table = columns[0].table
    return core_select(*columns).where(in_parameter(table.c[key], "ids"))


_SUBSCRIPTIONS_OF: Final = _read(_SUBSCRIPTION_COLUMNS, "account_id")
_USAGE_OF: Final = _read(_USAGE_COLUMNS, "account_id")
_FULFILLMENTS_OF: Final = _read(_FULFILLMENT_COLUMNS, "account_id")
_ONE_TIME_CHARGES_OF: Final = _read(_ONE_TIME_COLUMNS, "account_id")
_ORDER_LINES_OF: Final = _read(_ORDER_LINE_COLUMNS, "account_id")
_PRICES_OF: Final = _read(tuple(PriceTermsRow.__table__.c), "price_id")  # type: ignore[attr-defined]
_PRODUCTS_OF: Final = _read(tuple(CatalogProductRow.__table__.c), "product_id")  # type: ignore[attr-defined]


class SqlBillingInputsReadModel(BillingInputsReadModel):
    """The read model over its eight tables, on the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # The tax codes of the products read in the session's transaction `_read_in` and the ids read
        # (found or not): a chunk's, read by `billing_inputs`, are not read again for their tax codes.
        self._tax_codes: dict[str, str] = {}
        self._products_read: set[str] = set()
        self._read_in: object = None

    # --- what the consumers write ----------------------------------------------------------

    async def account_event_at(self, account_id: str) -> datetime | None:
        """When the account's last applied event occurred."""
        row = await self.session.get(BillingAccountRow, account_id)
        return None if row is None else row.event_at

    async def save_account(self, account: BillingAccount, *, event_at: datetime) -> None:
        """Insert or replace the account's row; it (and the account it billed to) is due again."""
        before = await self.session.get(BillingAccountRow, account.account_id)
        old_parent = None if before is None else before.parent_account_id
        await self.session.merge(account_row(account, event_at))
        await ensure_watermark(self.session, account.account_id)
        await self.session.flush()
        await clear_watermarks(self.session, [account.account_id, *([old_parent] if old_parent else [])])

    async def add_subscription_version(self, record: SubscriptionRecord) -> bool:
        """Insert the version unless its event id is kept."""
        if await self.session.get(SubscriptionVersionRow, record.event_id) is not None:
            return False
        self.session.add(_subscription_row(record))
        await clear_watermarks(self.session, [record.account_id])
        return True

    async def save_rated_usage(self, rated: Sequence[tuple[RatedUsageCharge, datetime]]) -> int:
        """Insert the new ones in one statement; replace the (rare) ones kept from an earlier rating."""
        latest: dict[str, tuple[RatedUsageCharge, datetime]] = {}
        for usage, rated_at in rated:
            kept = latest.get(usage.rated_usage_id)
            if kept is None or rated_at > kept[1]:
                latest[usage.rated_usage_id] = (usage, rated_at)
        if not latest:
            return 0
        stmt = select(RatedUsageRow.rated_usage_id, RatedUsageRow.rated_at).where(
            col(RatedUsageRow.rated_usage_id).in_(list(latest))
        )
        stored = dict((await self.session.exec(stmt)).all())
        names = RatedUsageCharge.__dataclass_fields__
        rows = [
            {**_fields(usage, names), "rated_at": rated_at}
            for usage, rated_at in latest.values()
            if usage.rated_usage_id not in stored
        ]
        if rows:
            await self.session.exec(insert(RatedUsageRow.__table__), params=rows)  # type: ignore[attr-defined]
        replaced = [
            RatedUsageRow(**_fields(usage, names), rated_at=rated_at)
            for usage, rated_at in latest.values()
            if usage.rated_usage_id in stored and rated_at > stored[usage.rated_usage_id]
        ]
        for row in replaced:
            await self.session.merge(row)
        await clear_watermarks(
            self.session, {r["account_id"] for r in rows} | {r.account_id for r in replaced}
        )
        return len(rows) + len(replaced)

    async def add_fulfillment(self, lines: Sequence[FulfilledCharge]) -> bool:
        """Insert the fulfillment's lines unless the fulfillment is kept."""
        if not lines:
            return False
        stmt = select(FulfillmentLineRow.fulfillment_id).where(
            col(FulfillmentLineRow.fulfillment_id) == lines[0].fulfillment_id
        )
        if (await self.session.exec(stmt)).first() is not None:
            return False
        names = FulfilledCharge.__dataclass_fields__
        self.session.add_all([FulfillmentLineRow(**_fields(line, names)) for line in lines])
        await clear_watermarks(self.session, {line.account_id for line in lines})
        return True

    async def add_one_time_charge(self, charge: OneTimeCharge) -> bool:
        """Insert the charge unless its id is kept."""
        if await self.session.get(OneTimeChargeRow, charge.charge_id) is not None:
            return False
        values = _fields(charge, OneTimeCharge.__dataclass_fields__)
        self.session.add(OneTimeChargeRow(**{**values, "kind": charge.kind.value}))
        await clear_watermarks(self.session, [charge.account_id])
        return True

    async def add_order_lines(self, lines: Sequence[ApprovedOrderLine]) -> int:
        """Insert the lines not kept yet."""
        if not lines:
            return 0
        stmt = select(ApprovedOrderLineRow.order_line_id).where(
            col(ApprovedOrderLineRow.order_line_id).in_([line.order_line_id for line in lines])
        )
        kept = set((await self.session.exec(stmt)).all())
        names = ApprovedOrderLine.__dataclass_fields__
        new = [
            ApprovedOrderLineRow(**{**_fields(line, names), "license_type": line.license_type.value})
            for line in lines
            if line.order_line_id not in kept
        ]
        self.session.add_all(new)
        await clear_watermarks(self.session, {row.account_id for row in new})
        return len(new)

    async def save_price_terms(self, terms: PriceTerms) -> None:
        """Insert or replace the price version's row."""
        await self.session.merge(
            PriceTermsRow(
                price_id=terms.price_id,
                version=terms.version,
                product_id=terms.product_id,
                currency=terms.currency,
                charge_type=terms.charge_type.value,
                billing_period=None if terms.billing_period is None else terms.billing_period.value,
                timing=terms.timing.value,
            )
        )
        await clear_watermarks_of(self.session, *charged_accounts(price_id=terms.price_id))

    async def product_event_at(self, product_id: str) -> datetime | None:
        """When the product's last applied event occurred."""
        row = await self.session.get(CatalogProductRow, product_id)
        return None if row is None else row.event_at

    async def save_product(self, product: CatalogProduct, *, event_at: datetime) -> None:
        """Insert or replace the product's row."""
        self._products_read.discard(product.product_id)
        self._tax_codes.pop(product.product_id, None)
        await self.session.merge(
            CatalogProductRow(
                product_id=product.product_id,
                name=product.name,
                tax_code=product.tax_code,
                revenue_rule=None if product.revenue_rule is None else product.revenue_rule.value,
                event_at=event_at,
            )
        )
        await clear_watermarks_of(self.session, *charged_accounts(product_id=product.product_id))

    # --- what bill runs read -----------------------------------------------------------------

    async def find_account(self, account_id: str) -> BillingAccount | None:
        """The account's row, as a billing profile."""
        rows = await self._core_rows(accounts_where(ACCOUNTS.c.account_id == account_id))
        return account_of(rows[0]) if rows else None

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[BillingAccount]:
        """Accounts with their own invoice, by id, after `after_account_id`; with `due_on`, only
        those not marked billed through that date (one outer join on the marks)."""
        stmt = page_of(core_select(*ACCOUNT_COLUMNS), after_account_id, limit, due_on)
        return [account_of(row) for row in await self._core_rows(stmt)]

    async def account_ids_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        """The ids of `accounts_page`, read alone."""
        stmt = page_of(core_select(ACCOUNTS.c.account_id), after_account_id, limit, due_on)
        return [row[0] for row in await self._core_rows(stmt)]

    async def billing_inputs(
        self,
        account_ids: Collection[str],
        *,
        billed: Mapping[str, Sequence[BilledCharge]] | None = None,
        adjustments: Mapping[str, Sequence[PendingAdjustment]] | None = None,
    ) -> dict[str, BillingInputs]:
        """The chunk's billing inputs (see the port)."""
        accounts = await accounts_with_children(self.session, set(account_ids))
        if not accounts:
            return {}
        ids = list(accounts)
        subscriptions = [subscription_record_of(row) for row in await self._rows(_SUBSCRIPTIONS_OF, ids)]
        usage = [RatedUsageCharge(*row) for row in await self._rows(_USAGE_OF, ids)]
        fulfillments = [FulfilledCharge(*row) for row in await self._rows(_FULFILLMENTS_OF, ids)]
        one_time = [_one_time_charge_of(row) for row in await self._rows(_ONE_TIME_CHARGES_OF, ids)]
        order_lines = [_order_line_of(row) for row in await self._rows(_ORDER_LINES_OF, ids)]
        price_ids = {s.version.price_id for s in subscriptions} | {line.price_id for line in order_lines}
        prices = await self._rows(_PRICES_OF, price_ids)
        product_ids = {s.product_id for s in subscriptions} | {line.product_id for line in order_lines}
        # With the products of the rest of the chunk's charges (a one-time charge may have none):
        # the bill run asks their tax codes next.
        product_ids |= {charge.product_id for charges in (usage, fulfillments) for charge in charges}
        product_ids |= {charge.product_id for charge in one_time if charge.product_id is not None}
        products = await self._rows(_PRODUCTS_OF, product_ids)
        self._this_transaction()
        self._products_read |= product_ids
        self._tax_codes.update({row.product_id: row.tax_code for row in products})
        records = ReadModelRecords(
            accounts=accounts,
            subscriptions=subscriptions,
            rated_usage=usage,
            fulfillments=fulfillments,
            one_time_charges=one_time,
            order_lines=order_lines,
            prices={(row.price_id, row.version): _price_terms_of(row) for row in prices},
            products={
                row.product_id: CatalogProduct(row.product_id, row.name, row.tax_code) for row in products
            },
        )
        return assemble_billing_inputs(account_ids, records, billed=billed, adjustments=adjustments)

    async def watermark_versions(self, account_ids: Collection[str]) -> dict[str, int]:
        """The version of each account's billing mark (see the port)."""
        return await watermark_versions(self.session, account_ids)

    async def mark_billed_through(self, versions: Mapping[str, int], through: date) -> int:
        """Mark the accounts billed through `through` where unchanged (see the port)."""
        return await mark_billed_through(self.session, versions, through)

    async def product_tax_codes(self, product_ids: Collection[str]) -> dict[str, str]:
        """The tax codes of the known products among these ids, in one query (none for the products
        `billing_inputs` read in this transaction)."""
        self._this_transaction()
        unread = set(product_ids) - self._products_read
        rows = await self._rows(_PRODUCTS_OF, unread)
        self._this_transaction()
        self._products_read |= unread
        codes = self._tax_codes
        codes.update({row.product_id: row.tax_code for row in rows})
        return {product_id: codes[product_id] for product_id in product_ids if product_id in codes}

    def _this_transaction(self) -> None:
        # Forget the products read in an earlier transaction of this session.
        transaction = self.session.sync_session.get_transaction()
        if transaction is not self._read_in:
            self._tax_codes, self._products_read, self._read_in = {}, set(), transaction

    async def _rows(self, statement: Any, values: Collection[str]) -> list[Any]:
        """The rows a statement of `_read` reads for these values."""
        if not values:
            return []
        return list((await self.session.exec(statement, params={"ids": list(values)})).all())

    async def _core_rows(self, stmt: Select[Any]) -> list[Any]:
        # Through the session (its pending changes flushed first, as for an ORM query).
        return list((await self.session.exec(stmt)).all())  # type: ignore[call-overload]
