"""The read model of billing inputs on a real database (SQLite and PostgreSQL): events applied as
the consumer applies them become, for a chunk of accounts, the exact `BillingInputs` a bill run
reads — money to the cent and unit prices to six decimals, children merged into their parents,
older account events ignored, redelivered events applied once — in a number of queries that does
not grow with the chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import func, select

from invoicing.app import create_app
from invoicing.domain.billing_inputs import OneTimeChargeKind
from invoicing.domain.read_model import CatalogProduct
from invoicing.handlers import billing_inputs as handlers
from invoicing.models.billing_inputs import CatalogProductRow, SubscriptionVersionRow
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from libs.contracts import provisioning
from libs.platform.db import Database
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import (
    account_opened,
    fulfillment_completed,
    order_approved,
    order_line,
    price_published,
    product_changed,
    subscription_cancelled,
    subscription_changed,
    subscription_event,
    usage_rated,
)
from tests.support.services import running_app

T0 = datetime(2026, 4, 16, 9, tzinfo=UTC)
R = TypeVar("R")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Invoicing's database, migrated to head (by the app's start-up), bus off, no bill-run polls
    (their queries would be counted with the read model's)."""
    app = create_app(invoicing_settings(database_url, bill_run_poll_s=0))
    async with running_app(app):
        yield app.state.runtime.db


async def _in_transaction(db: Database, work: Callable[[SqlInvoicingUnitOfWork], Awaitable[R]]) -> R:
    """Run `work` on a unit of work over one session, committed after, as the consumer does."""
    async with db.session() as session:
        uow = SqlInvoicingUnitOfWork(db, producer="invoicing", actor="test", session=session)
        result = await work(uow)
        await session.commit()
    return result


async def _apply(db: Database, handler: Callable[..., Awaitable[R]], **kwargs: Any) -> R:
    return await _in_transaction(db, lambda uow: handler(uow=uow, **kwargs))


async def _account(db: Database, account_id: str, at: datetime = T0, **fields: Any) -> None:
    await _apply(
        db, handlers.apply_account_event, profile=account_opened(account_id, **fields), occurred_at=at
    )


async def _subscription(
    db: Database, event_id: str, payload: provisioning.SubscriptionEvent, at: datetime
) -> bool:
    kind = {
        provisioning.SubscriptionActivated: "subscription.activated",
        provisioning.SubscriptionChanged: "subscription.changed",
        provisioning.SubscriptionCancelled: "subscription.cancelled",
    }[type(payload)]
    return await _apply(
        db,
        handlers.apply_subscription_event,
        event=payload,
        event_id=event_id,
        occurred_at=at,
        event_kind=kind,
    )


async def test_a_chunk_of_accounts_reads_exact_billing_inputs_with_children_merged(db: Database) -> None:
    # acct_a invoices itself, its child and the child's child; acct_b invoices itself.
    await _account(db, "acct_a", bill_cycle_day=31, time_zone="Europe/Paris", locale="fr_FR")
    await _account(db, "acct_a1", parent_account_id="acct_a", bills_to_parent=True)
    await _account(db, "acct_a11", parent_account_id="acct_a1", bills_to_parent=True)
    await _account(db, "acct_b", currency="USD")
    # An account change, then the opening delivered late: the change stands.
    changed = account_opened("acct_b", model=provisioning.AccountChanged, payment_terms_days=45, name="Beta")
    await _apply(db, handlers.apply_account_event, profile=changed, occurred_at=T0 + timedelta(days=3))
    await _account(db, "acct_b", at=T0 + timedelta(days=1))

    # acct_a: 2.5 seats at 12.345678, then 4 from 2026-05-10; the change delivered twice.
    seats = {"quantity": "2.5", "unit_price": "12.345678", "discount_percent": "12.5"}
    activated = subscription_event(provisioning.SubscriptionActivated, "sub_a", "acct_a", **seats)
    upgrade = subscription_changed("sub_a", "acct_a", quantity="4", on=date(2026, 5, 10), previous="2.5")
    upgrade = upgrade.model_copy(
        update={"unit_price": Decimal("12.345678"), "discount_percent": Decimal("12.5")}
    )
    assert await _subscription(db, "00000000-0000-0000-0000-000000000001", activated, T0)
    assert await _subscription(db, "00000000-0000-0000-0000-000000000002", upgrade, T0 + timedelta(days=24))
    assert not await _subscription(
        db, "00000000-0000-0000-0000-000000000002", upgrade, T0 + timedelta(days=24)
    )
    # The child's usage, the grandchild's workshop.
    rated = usage_rated("ru_a1", "sub_calls", "acct_a1", late_quantity="0.5")
    assert await _apply(db, handlers.apply_usage_rated, events=[rated])
    assert not await _apply(db, handlers.apply_usage_rated, events=[rated])
    await _apply(db, handlers.apply_fulfillment_completed, event=fulfillment_completed("ful_a11", "acct_a11"))
    # acct_b: cancelled early with a fee, and an order with a one-time onboarding line.
    cancelled = subscription_cancelled("sub_b", "acct_b", on=date(2026, 9, 20), fee="1250.00")
    await _subscription(db, "00000000-0000-0000-0000-000000000003", cancelled, T0 + timedelta(days=157))
    await _apply(
        db,
        handlers.apply_order_approved,
        event=order_approved("ord_b", "acct_b", lines=[order_line("ol_b")]),
        occurred_at=T0,
    )
    await _apply(db, handlers.apply_price_published, event=price_published())
    await _apply(db, handlers.apply_product_changed, event=product_changed(), occurred_at=T0)

    inputs = await _in_transaction(
        db, lambda uow: uow.billing_inputs.billing_inputs(["acct_a", "acct_a1", "acct_b", "acct_unknown"])
    )

    assert set(inputs) == {"acct_a", "acct_b"}
    a = inputs["acct_a"]
    assert (a.account.bill_cycle_day, a.account.time_zone, a.account.locale) == (31, "Europe/Paris", "fr_FR")
    (subscription,) = a.subscriptions
    assert subscription.product_name == "Workforce plan"
    assert [
        (v.effective_date, v.quantity, v.unit_price, v.discount_percent, v.sequence)
        for v in subscription.versions
    ] == [
        (date(2026, 4, 16), Decimal("2.5"), Decimal("12.345678"), Decimal("12.5"), 0),
        (date(2026, 5, 10), Decimal("4"), Decimal("12.345678"), Decimal("12.5"), 1),
    ]
    (usage,) = a.rated_usage
    assert (usage.account_id, usage.amount, usage.charge_amount, usage.late_quantity) == (
        "acct_a1",
        Decimal("107.59"),
        Decimal("107.59"),
        Decimal("0.5"),
    )
    assert {(f.account_id, f.fulfillment_id) for f in a.fulfillments} == {("acct_a11", "ful_a11")}
    assert sum(f.billable_quantity * f.unit_price for f in a.fulfillments) == Decimal("12050.00")

    b = inputs["acct_b"]
    assert (b.account.payment_terms_days, b.account.name, b.account.locale) == (45, "Beta", "en_US")
    assert [(c.kind, c.amount, c.charge_date) for c in b.one_time_charges] == [
        (OneTimeChargeKind.ORDER_FEE, Decimal("2250.00"), date(2026, 4, 16)),
        (OneTimeChargeKind.TERMINATION_FEE, Decimal("1250.00"), date(2026, 9, 20)),
    ]
    assert [v.state for s in b.subscriptions for v in s.versions] == ["cancelled"]

    page = await _in_transaction(db, lambda uow: uow.billing_inputs.accounts_page(None, 10))
    assert [account.account_id for account in page] == ["acct_a", "acct_b"]
    codes = await _in_transaction(
        db, lambda uow: uow.billing_inputs.product_tax_codes(["prod_plan", "prod_x"])
    )
    assert codes == {"prod_plan": "SW050000"}
    async with db.session() as session:
        versions = (await session.exec(select(func.count()).select_from(SubscriptionVersionRow))).one()
    assert versions == 3


async def test_a_chunk_is_read_in_the_same_number_of_queries_whatever_its_size(db: Database) -> None:
    for n in range(6):
        parent, child = f"acct_{n}", f"acct_{n}_child"
        await _account(db, parent)
        await _account(db, child, parent_account_id=parent, bills_to_parent=True)
        event = subscription_event(provisioning.SubscriptionActivated, f"sub_{n}", child)
        await _subscription(db, f"00000000-0000-0000-0000-00000000000{n}", event, T0)
        await _apply(db, handlers.apply_usage_rated, events=[usage_rated(f"ru_{n}", f"sub_{n}", child)])

    async def queries_for(account_ids: list[str]) -> tuple[int, int]:
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        engine = db.engine.sync_engine
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            inputs = await _in_transaction(db, lambda uow: uow.billing_inputs.billing_inputs(account_ids))
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        assert all(len(i.subscriptions) == 1 and len(i.rated_usage) == 1 for i in inputs.values())
        return len(inputs), sum(s.lstrip().upper().startswith("SELECT") for s in statements)

    two, six = await queries_for(["acct_0", "acct_1"]), await queries_for([f"acct_{n}" for n in range(6)])
    assert (two[0], six[0]) == (2, 6)
    # Two reads of accounts (the chunk with its children, then the none below them) and one query
    # per kind of row.
    assert two[1] == six[1] == 2 + 7


async def test_a_child_of_an_account_not_known_is_on_no_invoice_and_one_asked_with_its_parent_is_on_its(
    db: Database,
) -> None:
    """The chunk's accounts and their children are read in one query: a child billing to an id
    the read model does not know (asked for, or not) is on no account's inputs, and a child asked
    for with its parent is on the parent's inputs, not on its own."""
    await _account(db, "acct_p")
    await _account(db, "acct_c", parent_account_id="acct_p", bills_to_parent=True)
    await _account(db, "acct_orphan", parent_account_id="acct_gone", bills_to_parent=True)
    for n, account_id in enumerate(("acct_p", "acct_c", "acct_orphan")):
        event = subscription_event(provisioning.SubscriptionActivated, f"sub_{account_id}", account_id)
        await _subscription(db, f"00000000-0000-0000-0000-0000000000b{n}", event, T0)

    inputs = await _in_transaction(
        db, lambda uow: uow.billing_inputs.billing_inputs(["acct_gone", "acct_c", "acct_p"])
    )

    assert list(inputs) == ["acct_p"]
    assert sorted(s.subscription_id for s in inputs["acct_p"].subscriptions) == ["sub_acct_c", "sub_acct_p"]


async def test_a_chunks_tax_codes_come_from_its_read_and_a_product_saved_since_is_read_again(
    db: Database,
) -> None:
    """`billing_inputs` reads the products of every charge of the chunk: the tax codes the bill run
    asks next come from that read, in the same transaction, without a query; a product saved since
    (in the transaction) and the next transaction read them again."""
    await _account(db, "acct_t")
    event = subscription_event(provisioning.SubscriptionActivated, "sub_t", "acct_t")
    await _subscription(db, "00000000-0000-0000-0000-0000000000a1", event, T0)
    await _apply(db, handlers.apply_usage_rated, events=[usage_rated("ru_t", "sub_t", "acct_t")])
    for product_id, code in [("prod_plan", "SW050000"), ("prod_calls", "SW052000")]:
        event = product_changed(product_id, tax_code=code)
        await _apply(db, handlers.apply_product_changed, event=event, occurred_at=T0)
    asked = ["prod_plan", "prod_calls", "prod_x"]  # the chunk's two, and one it does not charge
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async def chunk_then_codes(uow: SqlInvoicingUnitOfWork) -> list[dict[str, str]]:
        await uow.billing_inputs.billing_inputs(["acct_t"])
        engine = db.engine.sync_engine
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            first = await uow.billing_inputs.product_tax_codes(asked[:2])
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        await uow.billing_inputs.save_product(
            CatalogProduct("prod_calls", "Calls", "SW053000"), event_at=T0 + timedelta(days=1)
        )
        changed = await uow.billing_inputs.product_tax_codes(asked)
        await uow.session.commit()
        # Another transaction of the same session: changed elsewhere meanwhile, read again.
        await (await uow.session.connection()).execute(
            CatalogProductRow.__table__.update()  # type: ignore[attr-defined]
            .where(CatalogProductRow.__table__.c.product_id == "prod_plan")  # type: ignore[attr-defined]
            .values(tax_code="SW054000")
        )
        return [first, changed, await uow.billing_inputs.product_tax_codes(asked)]

    first, changed, next_transaction = await _in_transaction(db, chunk_then_codes)
    assert statements == []  # the chunk's own products: no query
    assert first == {"prod_plan": "SW050000", "prod_calls": "SW052000"}
    assert changed == {"prod_plan": "SW050000", "prod_calls": "SW053000"}
    assert next_transaction == {"prod_plan": "SW054000", "prod_calls": "SW053000"}
    fresh = await _in_transaction(db, lambda uow: uow.billing_inputs.product_tax_codes(asked))
    assert fresh == next_transaction
