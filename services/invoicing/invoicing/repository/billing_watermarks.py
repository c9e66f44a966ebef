"""The accounts' billing watermarks (`billing_watermarks`, issue 9): SQL shared by the
repositories whose writes can make an account due again, and by bill runs.

- `clear_watermarks` — in the transaction of the write that keeps a charge's source (subscription
  version, rated usage, fulfillment, one-time charge, order line, account change, price or product,
  adjustment, voided invoice): the accounts' marks and those of the accounts they bill to (parent
  billing, level by level) are cleared and their `version` bumped, so a chunk that read the old
  version cannot set a mark over the new charge (`mark_billed_through`'s guard).
- `watermark_versions` / `mark_billed_through` — a chunk reads its accounts' versions with their
  inputs, and marks the accounts it billed in one statement, each only if unchanged. On PostgreSQL
  the (account, version) pairs travel as two arrays joined to the table by its key (`unnest`): a
  row-value `IN` list there is an OR of pairs that the planner, on a freshly loaded table, checks
  against every row — a chunk's update cost grew with the accounts of the database (148 ms a chunk
  of 250 at 4,000 accounts).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Date, Integer, String
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.read_model import MAX_HIERARCHY_DEPTH
from invoicing.models.billing_inputs import BillingAccountRow, BillingWatermarkRow
from libs.platform.value_sets import in_values

Mark = BillingWatermarkRow


async def ensure_watermark(session: AsyncSession, account_id: str) -> None:
    """The account's row (unmarked) when it has none yet."""
    if await session.get(Mark, account_id) is None:
        session.add(Mark(account_id=account_id, billed_through=None, version=0))
        await session.flush()


async def clear_watermarks(session: AsyncSession, account_ids: Collection[str]) -> None:
    """Clear the marks of these accounts and of the accounts their charges are invoiced to."""
    wanted = {a for a in account_ids if a}
    frontier = set(wanted)
    for _ in range(MAX_HIERARCHY_DEPTH):
        if not frontier:
            break
        stmt = select(BillingAccountRow.parent_account_id).where(
            col(BillingAccountRow.account_id).in_(frontier),
            col(BillingAccountRow.bills_to_parent).is_(True),
            col(BillingAccountRow.parent_account_id).is_not(None),
        )
        parents = {p for p in (await session.exec(stmt)).all() if p}
        frontier = parents - wanted
        wanted |= parents
    if wanted:
        await session.exec(
            update(Mark)
            .where(col(Mark.account_id).in_(sorted(wanted)))
            .values(billed_through=None, version=col(Mark.version) + 1)
        )


async def clear_watermarks_of(session: AsyncSession, *queries: Any) -> None:
    """Clear the marks of the accounts these queries select (those charged a price, or a product)."""
    found: set[str] = set()
    for query in queries:
        found |= {a for a in (await session.exec(query)).all() if a}
    await clear_watermarks(session, found)


async def watermark_versions(session: AsyncSession, account_ids: Collection[str]) -> dict[str, int]:
    """The version of each of these accounts' marks (accounts without a row are left out)."""
    if not account_ids:
        return {}
    stmt = select(Mark.account_id, Mark.version).where(in_values(col(Mark.account_id), set(account_ids)))
    return dict((await session.exec(stmt)).all())


_MARK_PAIRS: Any = text(
    "UPDATE billing_watermarks AS m SET billed_through = :through"
    " FROM unnest(:ids, :versions) AS v(account_id, version)"
    " WHERE m.account_id = v.account_id AND m.version = v.version"
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("versions", type_=ARRAY(Integer)))

# On SQLite the pairs travel as one JSON list of [account, version]: one statement, compiled
# once, whatever the chunk (a row-value IN list was 500 parameters rendered at every chunk).
_MARK_PAIRS_JSON: Any = text(
    "UPDATE billing_watermarks SET billed_through = :through"
    " WHERE (account_id, version) IN"
    " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:pairs))"
).bindparams(bindparam("through", type_=Date))


async def mark_billed_through(session: AsyncSession, versions: Mapping[str, int], through: date) -> int:
    """Mark each account billed through `through` if its version is still the one given; how many."""
    if not versions:
        return 0
    pairs = sorted(versions.items())
    if (await session.connection()).dialect.name == "postgresql":
        result: Any = await session.exec(
            _MARK_PAIRS,
            params={"through": through, "ids": [a for a, _ in pairs], "versions": [v for _, v in pairs]},
        )
        return int(result.rowcount)
    result = await session.exec(
        _MARK_PAIRS_JSON, params={"through": through, "pairs": json.dumps(pairs, separators=(",", ":"))}
    )
    return int(result.rowcount)
