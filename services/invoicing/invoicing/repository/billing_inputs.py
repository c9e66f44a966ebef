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
from typing import Any

from sqlalchemy import Select, insert, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
from invoicing.domain.read_model import (
    MAX_HIERARCHY_DEPTH,
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
    BillingWatermarkRow,
    CatalogProductRow,
    FulfillmentLineRow,
    OneTimeChargeRow,
    PriceTermsRow,
    RatedUsageRow,
    SubscriptionVersionRow,
)
from invoicing.repository.billing_watermarks import (
    clear_watermarks,
    clear_watermarks_of,
    ensure_watermark,
    mark_billed_through,
    watermark_versions,
)
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType
from libs.platform.value_sets import in_values

_ACCOUNTS: Any = BillingAccountRow.__table__  # type: ignore[attr-defined]
_MARKS: Any = BillingWatermarkRow.__table__  # type: ignore[attr-defined]


def account_of(row: Any) -> BillingAccount:
    """The billing profile of a row."""
    return BillingAccount(
        account_id=row.account_id,
        customer_id=row.customer_id,
        name=row.name,
        currency=row.currency,
        bill_cycle_day=row.bill_cycle_day,
        time_zone=row.time_zone,
        payment_terms_days=row.payment_terms_days,
        parent_account_id=row.parent_account_id,
        bills_to_parent=row.bills_to_parent,
        tax=AccountTaxStatus(
            treatment=TaxTreatment(row.tax_treatment),
            certificate_number=row.tax_certificate_number,
            certificate_expiry=row.tax_certificate_expiry,
            country=row.tax_country,
            region=row.tax_region,
            postal_code=row.tax_postal_code,
        ),
        billing_email=row.billing_email,
        locale=row.locale,
        crm_owner_name=row.crm_owner_name,
        crm_owner_email=row.crm_owner_email,
    )


def _account_row(account: BillingAccount, event_at: datetime) -> BillingAccountRow:
    tax = account.tax
    return BillingAccountRow(
        account_id=account.account_id,
        customer_id=account.customer_id,
        name=account.name,
        currency=account.currency,
        bill_cycle_day=account.bill_cycle_day,
        time_zone=account.time_zone,
        payment_terms_days=account.payment_terms_days,
        parent_account_id=account.parent_account_id,
        bills_to_parent=account.bills_to_parent,
        tax_treatment=tax.treatment.value,
        tax_certificate_number=tax.certificate_number,
        tax_certificate_expiry=tax.certificate_expiry,
        tax_country=tax.country,
        tax_region=tax.region,
        tax_postal_code=tax.postal_code,
        billing_email=account.billing_email,
        locale=account.locale,
        crm_owner_name=account.crm_owner_name,
        crm_owner_email=account.crm_owner_email,
        event_at=event_at,
    )


@functools.cache
def _optional(enum: Any, value: str | None) -> Any:
    # Memoized: an Enum(value) look-up costs more than the rest of a row's conversion, and a
    # chunk converts thousands of rows holding the same few values (errors are not cached).
    return None if value is None else enum(value)


def subscription_record_of(row: SubscriptionVersionRow) -> SubscriptionRecord:
    """The subscription event a row keeps."""
    return SubscriptionRecord(
        event_id=row.event_id,
        event_at=row.event_at,
        event_kind=row.event_kind,
        subscription_id=row.subscription_id,
        account_id=row.account_id,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=_optional(ChargeType, row.charge_type),
        billing_period=_optional(BillingFrequency, row.billing_period),
        billing_timing=_optional(BillingTiming, row.billing_timing),
        version=SubscriptionVersion(
            effective_date=row.effective_date,
            state=row.state,
            quantity=row.quantity,
            unit_price=row.unit_price,
            discount_percent=row.discount_percent,
            price_id=row.price_id,
            price_version=row.price_version,
            term_start=row.term_start,
            term_end=row.term_end,
        ),
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
    """The named attributes of a row or a record (the columns and fields that share their names)."""
    return {name: getattr(value, name) for name in names}


def _usage_of(row: RatedUsageRow) -> RatedUsageCharge:
    return RatedUsageCharge(**_fields(row, RatedUsageCharge.__dataclass_fields__))


def _fulfillment_of(row: FulfillmentLineRow) -> FulfilledCharge:
    return FulfilledCharge(**_fields(row, FulfilledCharge.__dataclass_fields__))


def _one_time_charge_of(row: OneTimeChargeRow) -> OneTimeCharge:
    values = _fields(row, OneTimeCharge.__dataclass_fields__)
    return OneTimeCharge(**{**values, "kind": OneTimeChargeKind(row.kind)})


def _order_line_of(row: ApprovedOrderLineRow) -> ApprovedOrderLine:
    values = _fields(row, ApprovedOrderLine.__dataclass_fields__)
    return ApprovedOrderLine(**{**values, "license_type": LicenseType(row.license_type)})


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
        await self.session.merge(_account_row(account, event_at))
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
        await clear_watermarks_of(self.session, *_charged_accounts(price_id=terms.price_id))

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
        await clear_watermarks_of(self.session, *_charged_accounts(product_id=product.product_id))

    # --- what bill runs read -----------------------------------------------------------------

    async def find_account(self, account_id: str) -> BillingAccount | None:
        """The account's row, as a billing profile."""
        row = await self.session.get(BillingAccountRow, account_id)
        return None if row is None else account_of(row)

    async def accounts_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[BillingAccount]:
        """Accounts with their own invoice, by id, after `after_account_id`; with `due_on`, only
        those not marked billed through that date (one outer join on the marks)."""
        stmt = self._page_of(core_select(_ACCOUNTS), after_account_id, limit, due_on)
        return [account_of(row) for row in await self._core_rows(stmt)]

    async def account_ids_page(
        self, after_account_id: str | None, limit: int, *, due_on: date | None = None
    ) -> list[str]:
        """The ids of `accounts_page`, read alone."""
        stmt = self._page_of(core_select(_ACCOUNTS.c.account_id), after_account_id, limit, due_on)
        return [row[0] for row in await self._core_rows(stmt)]

    @staticmethod
    def _page_of(stmt: Any, after_account_id: str | None, limit: int, due_on: date | None) -> Any:
        accounts, marks = _ACCOUNTS.c, _MARKS.c
        if due_on is not None:
            stmt = stmt.outerjoin(_MARKS, marks.account_id == accounts.account_id).where(
                or_(marks.billed_through.is_(None), marks.billed_through < due_on)
            )
        stmt = stmt.where(or_(accounts.bills_to_parent.is_(False), accounts.parent_account_id.is_(None)))
        if after_account_id is not None:
            stmt = stmt.where(accounts.account_id > after_account_id)
        return stmt.order_by(accounts.account_id).limit(limit)

    async def billing_inputs(
        self,
        account_ids: Collection[str],
        *,
        billed: Mapping[str, Sequence[BilledCharge]] | None = None,
        adjustments: Mapping[str, Sequence[PendingAdjustment]] | None = None,
    ) -> dict[str, BillingInputs]:
        """The chunk's billing inputs (see the port)."""
        accounts = await self._accounts_with_children(set(account_ids))
        if not accounts:
            return {}
        ids = list(accounts)
        versions = await self._rows(SubscriptionVersionRow, SubscriptionVersionRow.account_id, ids)
        usage = await self._rows(RatedUsageRow, RatedUsageRow.account_id, ids)
        fulfillments = await self._rows(FulfillmentLineRow, FulfillmentLineRow.account_id, ids)
        one_time = await self._rows(OneTimeChargeRow, OneTimeChargeRow.account_id, ids)
        order_lines = await self._rows(ApprovedOrderLineRow, ApprovedOrderLineRow.account_id, ids)
        price_ids = {row.price_id for row in versions} | {row.price_id for row in order_lines}
        prices = await self._rows(PriceTermsRow, PriceTermsRow.price_id, price_ids)
        product_ids = {row.product_id for row in versions} | {row.product_id for row in order_lines}
        # With the products of the rest of the chunk's charges: the bill run asks their tax codes next.
        product_ids |= {row.product_id for rows in (usage, fulfillments, one_time) for row in rows}
        product_ids.discard(None)
        products = await self._rows(CatalogProductRow, CatalogProductRow.product_id, product_ids)
        self._this_transaction()
        self._products_read |= product_ids
        self._tax_codes.update({row.product_id: row.tax_code for row in products})
        records = ReadModelRecords(
            accounts=accounts,
            subscriptions=[subscription_record_of(row) for row in versions],
            rated_usage=[_usage_of(row) for row in usage],
            fulfillments=[_fulfillment_of(row) for row in fulfillments],
            one_time_charges=[_one_time_charge_of(row) for row in one_time],
            order_lines=[_order_line_of(row) for row in order_lines],
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
        rows = await self._rows(CatalogProductRow, CatalogProductRow.product_id, unread)
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

    async def _accounts_with_children(self, account_ids: set[str]) -> dict[str, BillingAccount]:
        """The accounts of these ids and, level by level, the children that bill to them."""
        found = {
            row.account_id: account_of(row)
            for row in await self._rows(BillingAccountRow, BillingAccountRow.account_id, account_ids)
        }
        parents = set(found)
        for _ in range(MAX_HIERARCHY_DEPTH):
            if not parents:
                break
            stmt = core_select(_ACCOUNTS).where(
                in_values(_ACCOUNTS.c.parent_account_id, parents), _ACCOUNTS.c.bills_to_parent.is_(True)
            )
            children = [account_of(row) for row in await self._core_rows(stmt)]
            parents = {child.account_id for child in children if child.account_id not in found}
            found.update({child.account_id: child for child in children})
        return found

    async def _rows(self, model: Any, column: Any, values: Collection[str]) -> list[Any]:
        """The rows of `model`'s table whose `column` is in `values`, as plain rows (Core: no ORM
        object a row; the converters read them by column name as they would a model)."""
        if not values:
            return []
        table = model.__table__
        return await self._core_rows(core_select(table).where(in_values(table.c[column.key], set(values))))

    async def _core_rows(self, stmt: Select[Any]) -> list[Any]:
        # Through the session (its pending changes flushed first, as for an ORM query).
        return list((await self.session.exec(stmt)).all())  # type: ignore[call-overload]


def _charged_accounts(*, price_id: str | None = None, product_id: str | None = None) -> tuple[Any, Any]:
    """The accounts with a subscription version, or an approved order line, of a price or product."""
    if price_id is not None:
        versions = select(SubscriptionVersionRow.account_id).where(
            col(SubscriptionVersionRow.price_id) == price_id
        )
        orders = select(ApprovedOrderLineRow.account_id).where(col(ApprovedOrderLineRow.price_id) == price_id)
    else:
        versions = select(SubscriptionVersionRow.account_id).where(
            col(SubscriptionVersionRow.product_id) == product_id
        )
        orders = select(ApprovedOrderLineRow.account_id).where(
            col(ApprovedOrderLineRow.product_id) == product_id
        )
    return versions, orders
