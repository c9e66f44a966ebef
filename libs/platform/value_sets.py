"""`column IN <a set of values>` bound as ONE parameter, so that the statement is compiled once.

`column.in_(values)` renders one bound parameter a value at every execution (SQLAlchemy's
"expanding" parameters are spelled out after its compiled cache), and coerces each value into a
parameter object first: for a bill run's chunk of 250 accounts, a dozen such reads cost about a
tenth of its CPU. `in_values(column, values)` binds the whole set as one parameter instead — a
JSON list read by `json_each` on SQLite, an array compared with `= ANY` on PostgreSQL (as the
outbox and the inbox do in their hand-written SQL) — and its SQL, the same whatever the values,
is rendered once and kept by the compiled cache. Only for text values (ids, keys).

Statements written as SQL text (the usage ingestion's, built once per process) use the same
form through `in_set` and `set_param`: one way to bind a set, whichever way the SQL is written.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.sqltypes import Boolean
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class _TextSet(TypeDecorator[list[str]]):
    """A set of texts as one parameter: a text array on PostgreSQL, a JSON list elsewhere."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(String()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return set_param(value, dialect.name)


def set_param(values: Collection[Any], dialect: str) -> Any:
    """A set of values as ONE bound parameter: a list (an array) on PostgreSQL, elsewhere a
    compact JSON list (orjson: non-ASCII text kept as is, dates as "YYYY-MM-DD", as SQLite
    stores them)."""
    if dialect == "postgresql":
        return list(values)
    return orjson.dumps(list(values)).decode()


def in_set(column: str, param: str, dialect: str) -> str:
    """SQL text of `column IN <the set bound as :param by set_param>`, for hand-written
    statements: `= ANY` of the array on PostgreSQL, `json_each` of the JSON list elsewhere."""
    return _in_sql(column, f":{param}", dialect)


def _in_sql(column: str, values: str, dialect: str) -> str:
    """`column IN` the set bound as `values` (SQL of the parameter), in `dialect`'s form."""
    if dialect == "postgresql":
        return f"{column} = ANY({values})"
    return f"{column} IN (SELECT value FROM json_each({values}))"


class InValues(ColumnElement[bool]):
    """`column IN values`, the values bound as one parameter (`in_values`)."""

    __visit_name__ = "in_values"
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()
    _is_implicitly_boolean = True  # no "= 1" after it on SQLite, which would hide the index

    def __init__(self, column: Any, values: BindParameter[Any]) -> None:
        self.column = column
        self.values = values


def in_values(column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """`column IN values` (texts), bound as one parameter: the same SQL whatever the values."""
    return InValues(column, bindparam(None, list(values), type_=_TextSet()))


def in_parameter(column: Any, name: str) -> ColumnElement[bool]:
    """`column IN` the texts given at execution as the parameter `name` (`{name: values}`), bound
    as one parameter as by `in_values`: for a statement built once and run many times, which
    then is neither built again nor has its cache key computed again at each run."""
    return InValues(column, bindparam(name, type_=_TextSet()))


@compiles(InValues)
def _in_values_sql(element: InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return _in_sql(column, values, compiler.dialect.name)
