"""Bulk writes through the driver: an INSERT compiled once (`driver_insert`) and rows converted as
SQLAlchemy would bind them (`driver_rows`), for `exec_driver_sql` with many rows at once — the
audit trail, the outbox, the inbox and a bill run's invoices — without SQLAlchemy's per-row
parameter work."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Dialect, bindparam, insert

_DRIVER_INSERTS: dict[tuple[str, tuple[str, ...], str, str], str] = {}


def driver_insert(table: Any, columns: tuple[str, ...], dialect: Dialect) -> str:
    """An INSERT of `columns` into `table` in the driver's own parameter style, compiled once per
    dialect and driver: for `exec_driver_sql` with rows of values in `columns` order (a bulk
    insert of many rows without the ORM's per-row work)."""
    cache_key = (table.name, columns, dialect.name, dialect.driver)
    if cache_key not in _DRIVER_INSERTS:
        statement = insert(table).inline().values({name: bindparam(name) for name in columns})
        compiled = statement.compile(dialect=dialect)
        assert tuple(compiled.positiontup or ()) == columns, compiled.positiontup
        _DRIVER_INSERTS[cache_key] = str(compiled)
    return _DRIVER_INSERTS[cache_key]


_BIND_PROCESSORS: dict[
    tuple[str, tuple[str, ...], str, str], tuple[tuple[int, Callable[[Any], Any]], ...]
] = {}


def driver_rows(
    table: Any, columns: tuple[str, ...], dialect: Dialect, rows: Iterable[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """Rows of Python values in `columns` order, converted as SQLAlchemy binds them (each column
    type's bind processor, looked up once per dialect and driver, applied only to the columns
    that have one): the parameters of a `driver_insert` of typed values (dates, ExactDecimal,
    UtcDateTime, booleans) without SQLAlchemy's per-row parameter work.

    Converted column by column (`map` over each converted column, the rows transposed and back
    in C), not value by value in a Python loop over every row's columns."""
    cache_key = (table.name, columns, dialect.name, dialect.driver)
    processors = _BIND_PROCESSORS.get(cache_key)
    if processors is None:
        found = ((i, _bind_processor(table.c[name].type, dialect)) for i, name in enumerate(columns))
        processors = _BIND_PROCESSORS[cache_key] = tuple((i, p) for i, p in found if p is not None)
    rows = list(rows)
    if not processors or not rows:
        return [tuple(row) for row in rows]
    by_column: list[Iterable[Any]] = list(zip(*rows, strict=True))
    for i, process in processors:
        by_column[i] = map(process, by_column[i])
    return list(zip(*by_column, strict=True))


def _bind_processor(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor on `dialect`; a day's memoized (see `_memoized_days`)."""
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return process
    return _memoized_days(process) if python_type is date else process


def _memoized_days(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A DATE column's bind processor, memoized for `date` values: a date is immutable and hashed by
    its value, and the dates bound repeat (a chunk's invoices share their periods, invoice and due
    dates), while SQLite's processor formats each through a dict. Bounded; anything else (None, a
    datetime, a value the processor refuses) goes to the processor itself, uncached."""
    memoized = functools.lru_cache(maxsize=1024)(process)

    def bind(value: Any) -> Any:
        return memoized(value) if type(value) is date else process(value)

    return bind
