"""Billing accounts in SQL: the read model's `billing_accounts` rows <-> `BillingAccount`, the
hierarchy of accounts billing to their parent, and the pages of accounts a bill run goes through.

An account is read from the columns of `ACCOUNT_COLUMNS` only, by position: a bill run reads a
chunk's accounts at once, and a SQLAlchemy row's attribute look-up (by name) cost ten times its
look-up by position — the conversion of a chunk's rows was a tenth of its read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.billing_inputs import AccountTaxStatus, BillingAccount, TaxTreatment
from invoicing.domain.read_model import MAX_HIERARCHY_DEPTH
from invoicing.models.billing_inputs import (
    ApprovedOrderLineRow,
    BillingAccountRow,
    BillingWatermarkRow,
    SubscriptionVersionRow,
)
from libs.platform.value_sets import in_parameter

ACCOUNTS: Any = BillingAccountRow.__table__  # type: ignore[attr-defined]
_MARKS: Any = BillingWatermarkRow.__table__  # type: ignore[attr-defined]

ACCOUNT_COLUMNS: Final = tuple(
    ACCOUNTS.c[name]
    for name in (
        "account_id",
        "customer_id",
        "name",
        "currency",
        "bill_cycle_day",
        "time_zone",
        "payment_terms_days",
        "parent_account_id",
        "bills_to_parent",
        "tax_treatment",
        "tax_certificate_number",
        "tax_certificate_expiry",
        "tax_country",
        "tax_region",
        "tax_postal_code",
        "billing_email",
        "locale",
        "crm_owner_name",
        "crm_owner_email",
    )
)
"""What a billing profile is read from, in the order `account_of` takes it."""


def account_of(row: Sequence[Any]) -> BillingAccount:
    """The billing profile of a row of `ACCOUNT_COLUMNS`."""
    (
        account_id,
        customer_id,
        name,
        currency,
        bill_cycle_day,
        time_zone,
        payment_terms_days,
        parent_account_id,
        bills_to_parent,
        tax_treatment,
        certificate_number,
        certificate_expiry,
        country,
        region,
        postal_code,
        billing_email,
        locale,
        crm_owner_name,
        crm_owner_email,
    ) = row
    return BillingAccount(
        account_id=account_id,
        customer_id=customer_id,
        name=name,
        currency=currency,
        bill_cycle_day=bill_cycle_day,
        time_zone=time_zone,
        payment_terms_days=payment_terms_days,
        parent_account_id=parent_account_id,
        bills_to_parent=bills_to_parent,
        tax=AccountTaxStatus(
            treatment=TaxTreatment(tax_treatment),
            certificate_number=certificate_number,
            certificate_expiry=certificate_expiry,
            country=country,
            region=region,
            postal_code=postal_code,
        ),
        billing_email=billing_email,
        locale=locale,
        crm_owner_name=crm_owner_name,
        crm_owner_email=crm_owner_email,
    )


def account_row(account: BillingAccount, event_at: datetime) -> BillingAccountRow:
    """The row that keeps an account's billing profile, as of the event applied."""
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


def accounts_where(*conditions: Any) -> Any:
    """The statement reading the billing profiles of the accounts that meet `conditions`."""
    return core_select(*ACCOUNT_COLUMNS).where(*conditions)


def page_of(stmt: Any, after_account_id: str | None, limit: int, due_on: date | None) -> Any:
    """`stmt` narrowed to a page of the accounts with their own invoice, by id, after
    `after_account_id`; with `due_on`, only those not marked billed through that date (one outer
    join on the marks)."""
    accounts, marks = ACCOUNTS.c, _MARKS.c
    if due_on is not None:
        stmt = stmt.outerjoin(_MARKS, marks.account_id == accounts.account_id).where(
            or_(marks.billed_through.is_(None), marks.billed_through < due_on)
        )
    stmt = stmt.where(or_(accounts.bills_to_parent.is_(False), accounts.parent_account_id.is_(None)))
    if after_account_id is not None:
        stmt = stmt.where(accounts.account_id > after_account_id)
    return stmt.order_by(accounts.account_id).limit(limit)


_OF_CHUNK: Final = accounts_where(
    in_parameter(ACCOUNTS.c.account_id, "ids")
    | (in_parameter(ACCOUNTS.c.parent_account_id, "ids") & ACCOUNTS.c.bills_to_parent.is_(True))
)
"""The accounts of the ids and the children billing to them (built once: see `in_parameter`)."""
_CHILDREN: Final = accounts_where(
    in_parameter(ACCOUNTS.c.parent_account_id, "ids"), ACCOUNTS.c.bills_to_parent.is_(True)
)
"""The children billing to the ids."""


async def accounts_with_children(session: AsyncSession, account_ids: set[str]) -> dict[str, BillingAccount]:
    """The accounts of these ids and, level by level, the children that bill to them (the first
    level read with the accounts themselves: one query for a chunk without a hierarchy)."""
    if not account_ids:
        return {}
    accounts = await _accounts(session, _OF_CHUNK, account_ids)
    found = {account.account_id: account for account in accounts if account.account_id in account_ids}
    parents: set[str] = set()
    for level in range(MAX_HIERARCHY_DEPTH):
        if level:
            if not parents:
                break
            accounts = await _accounts(session, _CHILDREN, parents)
        # The children of the accounts found (not of an id that is not found; not one found already).
        children = [
            child
            for child in accounts
            if child.account_id not in found and child.bills_to_parent and child.parent_account_id in found
        ]
        parents = {child.account_id for child in children}
        found.update({child.account_id: child for child in children})
    return found


async def _accounts(session: AsyncSession, statement: Any, ids: Collection[str]) -> list[BillingAccount]:
    # Through the session (its pending changes flushed first, as for an ORM query).
    rows = await session.exec(statement, params={"ids": list(ids)})
    return [account_of(row) for row in rows]


def charged_accounts(*, price_id: str | None = None, product_id: str | None = None) -> tuple[Any, Any]:
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
