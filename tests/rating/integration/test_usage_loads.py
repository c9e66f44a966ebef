"""`POST /v1/usage/files` on SQLite and PostgreSQL: a mediation file is spooled, loaded in chunks
by the service's own worker, and its load reports what became of every row.

The service's clock is fixed at 2026-07-15T12:00Z. Every expected count comes from the rules of
ingestion (docs/rating.md): a row is accepted (counted, late, unmatched, filtered), a duplicate
(its event_id already stored, or earlier in the file) or rejected with its reasons; quantities
are the meter's sum of the counted rows, worked out by hand below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.platform.clock import FixedClock
from libs.platform.db import Database
from rating.app import create_app
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import ERP, create_meter, rated_account, rated_subscription
from tests.support.polling import eventually
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
CSV = {**ERP, "content-type": "text/csv"}
NDJSON = {**ERP, "content-type": "application/x-ndjson"}


@dataclass
class Rating:
    """The running service under test: a client, its database and its spool directory."""

    client: httpx.AsyncClient
    db: Database
    spool: Path

    async def upload(self, body: bytes, headers: dict[str, str], **params: str) -> dict[str, Any]:
        """Upload a file; the 202's load view (its Location checked)."""
        response = await self.client.post("/v1/usage/files", content=body, headers=headers, params=params)
        assert response.status_code == 202, response.text
        load: dict[str, Any] = response.json()
        assert response.headers["location"] == f"/v1/usage/files/{load['id']}"
        assert load["state"] == "received"
        return load

    async def finished(self, load_id: str) -> dict[str, Any]:
        """The load once the service's worker has completed (or failed) it."""

        async def probe() -> dict[str, Any]:
            response = await self.client.get(f"/v1/usage/files/{load_id}", headers=auth("ops"))
            assert response.status_code == 200, response.text
            view: dict[str, Any] = response.json()
            return view

        return await eventually(probe, until=lambda load: load["state"] in {"completed", "failed"})

    async def periods(self, subscription_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The subscription's open periods by (meter, period start)."""
        response = await self.client.get(f"/v1/subscriptions/{subscription_id}/usage", headers=auth("ops"))
        assert response.status_code == 200, response.text
        return {(p["meter"], p["period_start"]): p for p in response.json()["periods"]}


@pytest.fixture
async def rating(database_url: str, tmp_path: Path) -> AsyncIterator[Rating]:
    spool = tmp_path / "loads"
    settings = rating_settings(database_url, usage_load_dir=str(spool), usage_load_poll_s=0.05)
    app = create_app(settings, clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Rating(client, app.state.runtime.db, spool)


async def _customer(rating: Rating) -> tuple[str, str]:
    """An account and its monthly subscription to prod_api from 2026-01-01: (account, subscription)."""
    account_id = await rated_account(rating.db)
    return account_id, await rated_subscription(rating.db, account_id=account_id, product_id="prod_api")


def _errors(rejection: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in rejection["errors"]}


async def test_a_csv_file_counts_each_row_once_and_rejects_each_bad_line_with_its_reasons(
    rating: Rating,
) -> None:
    meter = (await create_meter(rating.client))["code"]
    account, sub = await _customer(rating)
    lines = [
        b"event_id,subscription_id,account_id,meter,quantity,timestamp,properties.region",
        f"f-1,{sub},,{meter},2,2026-07-01T09:30:00Z,eu".encode(),  # 2: counted, July
        f"f-2,,{account},{meter},3,2026-07-02T10:00:00Z,us".encode(),  # 3: counted (the account's)
        f"f-1,{sub},,{meter},5,2026-07-03T10:00:00Z,eu".encode(),  # 4: duplicate of line 2
        f"f-3,,acct_nobody,{meter},1,2026-07-03T10:00:00Z,eu".encode(),  # 5: unmatched
        f"f-4,{sub},,{meter},-1,2026-07-03T10:00:00Z,eu".encode(),  # 6: negative quantity
        f"f-5,{sub},,no_such_meter,1,2026-07-03T10:00:00Z,eu".encode(),  # 7: unknown meter
        f"f-6,{sub},,{meter},1".encode(),  # 8: too few fields
        f'"f-7,{sub},,{meter},1,2026-07-03T10:00:00Z,eu'.encode(),  # 9: quote never closed
        b"",  # 10: blank, no row
        f"f-8,{sub},,{meter},1,2026-07-01T09:30:00,eu".encode(),  # 11: no time zone
        b"f-9,\xff\xfe,,x,1,2026-07-03T10:00:00Z,eu",  # 12: not UTF-8
        f"f-10,{sub},,{meter},4,2026-06-30T23:00:00Z,".encode(),  # 13: counted, June
    ]
    load = await rating.upload(b"\r\n".join(lines) + b"\r\n", CSV, name="july.csv")
    assert load["name"] == "july.csv" and load["format"] == "csv"

    done = await rating.finished(load["id"])

    assert done["state"] == "completed", done
    counts = {k: done[k] for k in ("rows_read", "accepted", "counted", "late", "unmatched", "filtered")}
    assert counts == {"rows_read": 11, "accepted": 4, "counted": 3, "late": 0, "unmatched": 1, "filtered": 0}
    assert (done["duplicates"], done["rejected"], done["rejections_kept"]) == (1, 6, 6)
    assert done["percent"] == 100.0 and done["bytes_read"] == done["size_bytes"]
    assert done["lines_read"] == 13
    rejected = {r["line"]: r for r in done["rejections"]}
    assert sorted(rejected) == [6, 7, 8, 9, 11, 12]
    assert [(e["field"], e["message"]) for e in rejected[6]["errors"]] == [
        ("quantity", "must not be negative")
    ]
    assert _errors(rejected[7]) == {("meter", "unknown_meter")}
    assert _errors(rejected[8]) == {("line", "column_count")}
    assert _errors(rejected[9]) == {("line", "csv_invalid")}
    assert {field for field, _ in _errors(rejected[11])} == {"timestamp"}
    assert _errors(rejected[12]) == {("line", "utf8_invalid")}
    assert rejected[6]["event_id"] == "f-4" and rejected[12]["event_id"] is None
    # Sum meter: July 2 + 3 (lines 2 and 3), June 4 (line 13); the duplicate's 5 is not counted.
    periods = await rating.periods(sub)
    assert periods[(meter, "2026-07-01")]["quantity"] == "5"
    assert periods[(meter, "2026-06-01")]["quantity"] == "4"
    review = await rating.client.get("/v1/usage/review", headers=auth("ops"))
    assert [e["event_id"] for e in review.json()["data"]] == ["f-3"]
    assert not list(rating.spool.iterdir())  # the spooled file is gone once loaded
