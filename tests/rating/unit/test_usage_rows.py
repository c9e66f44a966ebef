"""The raw SQLite rows of usage events and aggregates hold exactly the text SQLAlchemy's column types write,
so that times, dates and quantities compare and read back alike whoever wrote them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from libs.platform.periods import BillingPeriod
from rating.domain.usage import AggregateState, UsageEvent, UsageStatus
from rating.handlers.usage_aggregates import AggregateChange
from rating.repository.usage_sql import (
    AGGREGATE_COLUMNS,
    AGGREGATES,
    EVENT_COLUMNS,
    EVENTS,
    sqlite_aggregate_writes,
    sqlite_event_rows,
    sqlite_time,
    storage_forms,
    stored_form,
    stored_quantity,
)

DIALECT = sqlite.dialect()


def _orm_form(column: str, value: object) -> object:
    processor = EVENTS.c[column].type.dialect_impl(DIALECT).bind_processor(DIALECT)
    return processor(value) if processor is not None and value is not None else value


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_times_are_written_as_the_orm_writes_them(moment: datetime, offset_minutes: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert sqlite_time(local) == _orm_form("occurred_at", local)


@given(
    quantity=st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Decimal("1E+2"), Decimal("1E-7"), Decimal("0.000001"), Decimal("-0"), Decimal("0E-9")])
)
def test_quantities_are_written_as_the_orm_writes_them(quantity: Decimal) -> None:
    assert stored_quantity(quantity) == _orm_form("quantity", quantity)


def test_an_event_row_matches_the_orm_form_of_every_column() -> None:
    event = UsageEvent(
        event_id="ev-1",
        meter="api_calls",
        quantity=Decimal("12.500000"),
        occurred_at=datetime(2026, 7, 1, 9, 30, 0, 123, tzinfo=timezone(timedelta(hours=-5))),
        properties={"region": "eu", "n": 3, "beta": True, "name": "Zoë"},
        subscription_id="sub_1",
        account_id="acct_1",
        status=UsageStatus.LATE,
        usage_date=date(2026, 7, 1),
        period=BillingPeriod(date(2026, 7, 1), date(2026, 8, 1)),
    )
    received = datetime(2026, 7, 2, tzinfo=UTC)
    (row,) = sqlite_event_rows([event], received)
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    for column, value in (
        ("quantity", event.quantity),
        ("occurred_at", event.occurred_at),
        ("usage_date", event.usage_date),
        ("period_start", date(2026, 7, 1)),
        ("received_at", received),
    ):
        assert values[column] == _orm_form(column, value), column
    assert json.loads(values["properties"]) == event.properties
    assert (values["status"], values["source"], values["load_id"]) == ("late", "rest", None)


def test_an_unmatched_event_has_no_dates() -> None:
    event = UsageEvent(
        event_id="ev-2",
        meter="api_calls",
        quantity=Decimal(1),
        occurred_at=datetime(2026, 7, 1, tzinfo=UTC),
        properties={},
        subscription_id=None,
        account_id="acct_x",
        review_reason="unknown account",
    )
    (row,) = sqlite_event_rows([event], datetime(2026, 7, 2, tzinfo=UTC))
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    assert (values["usage_date"], values["period_start"], values["properties"]) == (None, None, None)
    assert (values["status"], values["review_reason"]) == ("unmatched", "unknown account")


@given(
    quantity=st.decimals(min_value=0, max_value=10**12, places=6),
    late_quantity=st.decimals(min_value=0, max_value=10**6, places=6),
    latest=st.one_of(
        st.none(),
        st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    ),
    update=st.booleans(),
)
def test_an_aggregate_row_matches_the_orm_form_of_every_column(
    quantity: Decimal, late_quantity: Decimal, latest: datetime | None, update: bool
) -> None:
    row = (
        "sub_1",
        "api_calls",
        date(2026, 7, 1),
        date(2026, 8, 1),
        "acct_1",
        quantity,
        7,
        late_quantity,
        2,
        latest,
        datetime(2026, 7, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    )
    forms = storage_forms(AGGREGATES, AGGREGATE_COLUMNS, DIALECT)
    state = AggregateState(quantity, 7, late_quantity, 2, latest)
    key = ("sub_1", "api_calls", date(2026, 7, 1))
    change = AggregateChange(key, date(2026, 8, 1), "acct_1", state, update)
    by_rowid, updates, inserts = sqlite_aggregate_writes([change], row[-1])
    assert (updates if update else inserts) == [stored_form(row, forms, update=update)]
    assert (inserts if update else updates) == [] and by_rowid == []
    change.rowid = 42
    by_rowid, updates, inserts = sqlite_aggregate_writes([change], row[-1])
    if update:  # the rowid bound before the key (SQLITE_AGGREGATE_UPDATE_BY_ROWID)
        values = stored_form(row, forms, update=True)
        assert (by_rowid, updates, inserts) == ([(*values[:-3], 42, *values[-3:])], [], [])
    else:
        assert (by_rowid, updates, inserts) == ([], [], [stored_form(row, forms)])
