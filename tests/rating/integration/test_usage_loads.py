"""`POST /v1/usage/files` on SQLite and PostgreSQL: a mediation file is spooled, loaded in chunks
by the service's own worker, and its load reports what became of every row.

The service's clock is fixed at 2026-07-15T12:00Z. Every expected count comes from the rules of
ingestion (docs/rating.md): a row is accepted (counted, late, unmatched, filtered), a duplicate
(its event_id already stored, or earlier in the file) or rejected with its reasons; quantities
are the meter's sum of the counted rows, worked out by hand below.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from libs.platform.clock import FixedClock
from libs.platform.db import Database
from rating.app import create_app
from rating.bootstrap import RatingRuntime
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.handlers.usage_loads import (
    LoadSettings,
    LoadTakenOver,
    load_file,
    load_pending_files,
    sweep_spool,
    take_next_load,
)
from rating.models import UsageEventRow
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


async def test_the_same_file_twice_counts_every_row_of_the_second_load_as_a_duplicate(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating)
    rows = [
        f'{{"event_id": "n-{i}", "subscription_id": "{sub}", "meter": "{meter}", "quantity": {i}, '
        f'"timestamp": "2026-07-0{i}T08:00:00Z"}}'
        for i in range(1, 6)
    ]
    body = ("\n".join(rows) + "\n").encode()
    first = await rating.finished((await rating.upload(body, NDJSON))["id"])
    second_load = await rating.upload(body, NDJSON)
    assert second_load["same_content_as"] == first["id"]
    second = await rating.finished(second_load["id"])

    assert (first["rows_read"], first["accepted"], first["counted"], first["duplicates"]) == (5, 5, 5, 0)
    assert (second["rows_read"], second["accepted"], second["duplicates"], second["rejected"]) == (5, 0, 5, 0)
    assert first["same_content_as"] is None and second["same_content_as"] == first["id"]
    # 1 + 2 + 3 + 4 + 5, once.
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "15"


async def test_an_ndjson_file_rejects_each_malformed_line_and_keeps_the_others(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating)

    def event(event_id: str, quantity: object = 1, **extra: object) -> str:
        fields = {"event_id": event_id, "subscription_id": sub, "meter": meter, "quantity": quantity}
        return json.dumps({**fields, "timestamp": "2026-07-04T08:00:00Z", **extra})

    lines = [
        event("j-1", 2),  # 1: counted
        "{not json",  # 2
        "[1, 2, 3]",  # 3: JSON, not an event
        json.dumps({"event_id": "j-4", "meter": meter}),  # 4: no quantity, timestamp or reference
        event("j-5", quantity="0.5"),  # 5: counted
        '{"event_id": "j-6", "subscription_id": "'
        + sub
        + '", "meter": "'
        + meter
        + '", "quantity": 0.99999999999999999, "timestamp": "2026-07-04T08:00:00Z"}',  # 6: not exact
        "   ",  # 7: blank
        event("j-8", properties={"region": ["eu"]}),  # 8: a property is no list
        event("j-1", 9),  # 9: duplicate of line 1
    ]
    done = await rating.finished((await rating.upload("\n".join(lines).encode(), NDJSON))["id"])

    assert (done["rows_read"], done["accepted"], done["duplicates"], done["rejected"]) == (8, 2, 1, 5)
    rejected = {r["line"]: r for r in done["rejections"]}
    assert sorted(rejected) == [2, 3, 4, 6, 8]
    assert _errors(rejected[2]) == {("line", "json_invalid")}
    assert {field for field, _ in _errors(rejected[4])} >= {"quantity", "timestamp"}
    assert {field for field, _ in _errors(rejected[6])} == {"quantity"}
    assert {field for field, _ in _errors(rejected[8])} == {"properties.region"}
    assert rejected[4]["event_id"] == "j-4"
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "2.5"  # 2 + 0.5


async def test_csv_properties_come_from_named_columns_and_a_json_column(rating: Rating) -> None:
    meter = (await create_meter(rating.client, filter={"region": ["eu"]}))["code"]
    _, sub = await _customer(rating)
    body = "\n".join(
        [
            "event_id,subscription_id,meter,quantity,timestamp,properties.region,properties",
            f'p-1,{sub},{meter},1,2026-07-05T08:00:00Z,eu,"{{""tier"": 2}}"',  # counted
            f"p-2,{sub},{meter},10,2026-07-05T08:00:00Z,us,",  # filtered: region us
            f'p-3,{sub},{meter},1,2026-07-05T08:00:00Z,eu,"{{""region"": ""eu""}}"',  # region twice
            f'p-4,{sub},{meter},1,2026-07-05T08:00:00Z,eu,"[1]"',  # properties not an object
        ]
    ).encode()
    done = await rating.finished(
        (await rating.upload(body, {**ERP, "content-type": "text/plain"}, format="csv"))["id"]
    )

    assert (done["accepted"], done["counted"], done["filtered"], done["rejected"]) == (2, 1, 1, 2)
    rejected = {r["line"]: _errors(r) for r in done["rejections"]}
    assert rejected == {4: {("properties.region", "duplicate")}, 5: {("properties", "dict_type")}}
    assert (await rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "1"


async def test_a_line_longer_than_64_kib_is_one_rejected_row_and_the_next_lines_load(rating: Rating) -> None:
    meter = (await create_meter(rating.client))["code"]
    _, sub = await _customer(rating)

    def row(n: int) -> str:
        fields = {"event_id": f"l-{n}", "subscription_id": sub, "meter": meter, "quantity": 1}
        return json.dumps({**fields, "timestamp": "2026-07-06T08:00:00Z"})

    body = "\n".join([row(1), row(2) + " " * (200 * 1024), row(3)]).encode()
    done = await rating.finished((await rating.upload(body, NDJSON))["id"])

    assert (done["rows_read"], done["accepted"], done["rejected"]) == (3, 2, 1)
    assert done["rejections"][0]["line"] == 2
    assert _errors(done["rejections"][0]) == {("line", "too_long")}


@pytest.fixture
async def small_limit(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Rating]:
    """Rating on SQLite taking files of at most 4 KiB, loading none (no worker)."""
    spool = tmp_path / "loads"
    settings = rating_settings(
        sqlite_url, usage_load_dir=str(spool), usage_load_poll_s=0, usage_file_max_bytes=4096
    )
    app = create_app(settings, clock=FixedClock(NOW))
    async with running_app(app) as client:
        yield Rating(client, app.state.runtime.db, spool)


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


async def _pieces(body: bytes, size: int = 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_uploads_that_cannot_be_loaded_are_refused_with_a_problem_and_leave_no_file(
    small_limit: Rating,
) -> None:
    post = small_limit.client.post
    header = b"event_id,subscription_id,meter,quantity,timestamp\n"

    unsupported = _problem(
        await post("/v1/usage/files", content=header, headers={**ERP, "content-type": "text/plain"}), 415
    )
    assert "text/csv" in unsupported["detail"]
    empty = _problem(await post("/v1/usage/files", content=b"", headers=CSV), 422)
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("file", "empty")]
    bad_header = _problem(
        await post("/v1/usage/files", content=b"event_id,meter,qty,timestamp,event_id\n", headers=CSV), 422
    )
    assert {(e["field"], e["code"]) for e in bad_header["errors"]} == {
        ("header.3", "unknown_column"),
        ("header.5", "duplicate_column"),
        ("header", "missing_column"),  # quantity, and a subscription_id or account_id
    }
    declared = _problem(await post("/v1/usage/files", content=header + b"x" * 5000, headers=CSV), 413)
    assert "4096" in declared["detail"]
    streamed = await post("/v1/usage/files", content=_pieces(header + b"x" * 5000), headers=CSV)
    _problem(streamed, 413)
    ops = await post("/v1/usage/files", content=header, headers={**auth("ops"), "content-type": "text/csv"})
    _problem(ops, 403)
    unknown = await small_limit.client.get("/v1/usage/files/ul_nothing", headers=auth("ops"))
    _problem(unknown, 404)
    assert not small_limit.spool.exists() or not list(small_limit.spool.iterdir())
    listed = await small_limit.client.get("/v1/usage/files", headers=auth("ops"))
    assert listed.json()["data"] == []


async def test_an_idempotency_key_replays_the_upload_once_and_refuses_another_file(
    small_limit: Rating,
) -> None:
    body = b"event_id,account_id,meter,quantity,timestamp\nk-1,acct_x,m,1,2026-07-01T00:00:00Z\n"
    headers = {**CSV, "Idempotency-Key": "upload-1"}
    first = await small_limit.client.post("/v1/usage/files", content=_pieces(body, 16), headers=headers)
    again = await small_limit.client.post("/v1/usage/files", content=_pieces(body, 7), headers=headers)
    other = await small_limit.client.post("/v1/usage/files", content=body + b"\n", headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert _problem(other, 409)["code"] == "idempotency_key_reused"
    listed = (await small_limit.client.get("/v1/usage/files", headers=auth("ops"))).json()["data"]
    assert [load["id"] for load in listed] == [first.json()["id"]]
    assert [p.name for p in small_limit.spool.iterdir()] == [f"{first.json()['id']}.csv"]


async def test_loads_and_their_rejected_rows_list_in_cursor_pages(rating: Rating) -> None:
    lines = ["event_id,account_id,meter,quantity,timestamp"] + [f"r-{i},acct_x,m,-{i},x" for i in range(1, 8)]
    first = await rating.finished((await rating.upload("\n".join(lines).encode(), CSV))["id"])
    second = await rating.upload(b"event_id,account_id,meter,quantity,timestamp\n", CSV)
    assert first["rejected"] == 7 and len(first["rejections"]) == 7

    lines_seen: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await rating.client.get(
            f"/v1/usage/files/{first['id']}/rejections", params=params, headers=auth("ops")
        )
        assert page.status_code == 200, page.text
        lines_seen += [r["line"] for r in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            break
    assert lines_seen == [2, 3, 4, 5, 6, 7, 8]
    loads = await rating.client.get("/v1/usage/files", params={"limit": "1"}, headers=auth("ops"))
    assert [load["id"] for load in loads.json()["data"]] == [first["id"]]
    rest = await rating.client.get(
        "/v1/usage/files", params={"limit": "5", "cursor": loads.json()["next_cursor"]}, headers=auth("ops")
    )
    assert [load["id"] for load in rest.json()["data"]] == [second["id"]]
    completed = await rating.client.get("/v1/usage/files", params={"state": "completed"}, headers=auth("ops"))
    assert first["id"] in [load["id"] for load in completed.json()["data"]]


class MovableClock:
    """A clock a test moves on (leases run out)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class Manual:
    """Rating whose loads only move when the test runs a worker (no periodic job)."""

    rating: Rating
    runtime: RatingRuntime
    clock: MovableClock

    def units_of_work(self) -> RatingUnitOfWork:
        return self.runtime.rating_unit_of_work()


@pytest.fixture
async def manual(database_url: str, tmp_path: Path) -> AsyncIterator[Manual]:
    spool = tmp_path / "loads"
    settings = rating_settings(database_url, usage_load_dir=str(spool), usage_load_poll_s=0)
    clock = MovableClock(NOW)
    app = create_app(settings, clock=clock)
    async with running_app(app) as client:
        yield Manual(Rating(client, app.state.runtime.db, spool), app.state.runtime, clock)


CHUNKS = LoadSettings(chunk_rows=10, lease=timedelta(seconds=60))


def _numbered_file(sub: str, meter: str, rows: int) -> bytes:
    """A CSV file of `rows` events, the n-th of quantity n (all in July)."""
    lines = ["event_id,subscription_id,meter,quantity,timestamp"]
    lines += [f"c-{n},{sub},{meter},{n},2026-07-{1 + n % 14:02d}T08:00:00Z" for n in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


async def _stored_events(db: Database, load_id: str) -> int:
    async with db.session() as session:
        result = await session.exec(
            select(func.count()).select_from(UsageEventRow).where(col(UsageEventRow.load_id) == load_id)
        )
        return int(result.one())


async def test_a_load_taken_over_after_its_worker_died_goes_on_from_the_last_committed_chunk(
    manual: Manual,
) -> None:
    meter = (await create_meter(manual.rating.client))["code"]
    _, sub = await _customer(manual.rating)
    load_id = (await manual.rating.upload(_numbered_file(sub, meter, 25), CSV))["id"]
    files = manual.runtime.usage_file_store()

    taken = await take_next_load(manual.units_of_work, worker="A", lease=CHUNKS.lease)
    assert taken is not None and taken.id == load_id
    await load_file(
        units_of_work=manual.units_of_work, files=files, load=taken, settings=CHUNKS, max_chunks=1
    )
    # Worker A dies here. Lines 1-10 are committed: the header and rows 1-9.
    halfway = (await manual.rating.client.get(f"/v1/usage/files/{load_id}", headers=auth("ops"))).json()
    assert (halfway["state"], halfway["lines_read"], halfway["rows_read"], halfway["accepted"]) == (
        "loading",
        10,
        9,
        9,
    )
    assert 0 < halfway["percent"] < 100
    assert (
        await take_next_load(manual.units_of_work, worker="B", lease=CHUNKS.lease) is None
    )  # A's lease runs

    manual.clock.at = NOW + timedelta(seconds=61)
    finished = await load_pending_files(
        units_of_work=manual.units_of_work, files=files, worker="B", settings=CHUNKS
    )

    assert [load.id for load in finished] == [load_id]
    done = await manual.rating.finished(load_id)
    assert (done["state"], done["rows_read"], done["accepted"], done["duplicates"]) == (
        "completed",
        25,
        25,
        0,
    )
    assert await _stored_events(manual.rating.db, load_id) == 25
    # 1 + 2 + ... + 25 = 325, each row once.
    assert (await manual.rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "325"
    # A wakes up: its next chunk finds the load taken over and commits nothing.
    with pytest.raises(LoadTakenOver):
        await load_file(units_of_work=manual.units_of_work, files=files, load=taken, settings=CHUNKS)
    again = (await manual.rating.client.get(f"/v1/usage/files/{load_id}", headers=auth("ops"))).json()
    assert (again["rows_read"], again["accepted"]) == (25, 25)


async def test_a_chunk_that_fails_before_its_commit_leaves_nothing_and_is_done_once_on_the_next_run(
    manual: Manual,
) -> None:
    meter = (await create_meter(manual.rating.client))["code"]
    _, sub = await _customer(manual.rating)
    load_id = (await manual.rating.upload(_numbered_file(sub, meter, 25), CSV))["id"]
    files = manual.runtime.usage_file_store()
    commits = 0

    def failing_second_chunk() -> RatingUnitOfWork:
        uow = manual.units_of_work()
        commit = uow.commit

        async def commit_or_fail() -> None:
            nonlocal commits
            commits += 1
            if commits == 3:  # 1: the take, 2: chunk 1, 3: chunk 2 (its events are staged)
                raise ConnectionError("the database went away")
            await commit()

        uow.commit = commit_or_fail  # type: ignore[method-assign]
        return uow

    with pytest.raises(ConnectionError):
        await load_pending_files(units_of_work=failing_second_chunk, files=files, worker="A", settings=CHUNKS)
    assert await _stored_events(manual.rating.db, load_id) == 9  # chunk 1 only
    # A let its lease go when the chunk failed: another worker goes on at once, from line 11.
    await load_pending_files(units_of_work=manual.units_of_work, files=files, worker="B", settings=CHUNKS)

    done = await manual.rating.finished(load_id)
    assert (done["rows_read"], done["accepted"], done["duplicates"]) == (25, 25, 0)
    assert await _stored_events(manual.rating.db, load_id) == 25
    assert (await manual.rating.periods(sub))[(meter, "2026-07-01")]["quantity"] == "325"


async def test_a_load_whose_spooled_file_is_gone_fails_with_the_reason(manual: Manual) -> None:
    load_id = (await manual.rating.upload(b"event_id,account_id,meter,quantity,timestamp\n", CSV))["id"]
    (manual.rating.spool / f"{load_id}.csv").unlink()

    await load_pending_files(
        units_of_work=manual.units_of_work,
        files=manual.runtime.usage_file_store(),
        worker="A",
        settings=CHUNKS,
    )

    failed = await manual.rating.finished(load_id)
    assert failed["state"] == "failed" and "spooled file is gone" in failed["failure_reason"]
    assert failed["finished_at"] is not None


BIG_ROWS = 200_000
"""The big file: 14.6 MB. Its upload is cheap and always runs in full; loading all of it under
tracemalloc takes 50 to 120 s, so the suite loads LOAD_ROWS of it (RATING_BIG_FILE=1: all)."""
BIG_FILE = os.environ.get("RATING_BIG_FILE") == "1"
LOAD_ROWS = BIG_ROWS if BIG_FILE else 50_000
LOAD_CHUNK_ROWS = 1_000


async def _generated_file(sub: str, meter: str, produced: list[int], rows: int) -> AsyncIterator[bytes]:
    """A CSV file of `rows` events made on the fly, in 64 KiB pieces (never whole in memory)."""
    piece: list[str] = ["event_id,subscription_id,meter,quantity,timestamp,properties.region\n"]
    size = len(piece[0])
    for n in range(1, rows + 1):
        line = f"big-{n:07d},{sub},{meter},1,2026-07-{1 + n % 14:02d}T{n % 24:02d}:00:00Z,eu\n"
        piece.append(line)
        size += len(line)
        if size >= 65536:
            data = "".join(piece).encode()
            produced[0] += len(data)
            yield data
            piece, size = [], 0
    data = "".join(piece).encode()
    produced[0] += len(data)
    yield data


async def test_a_big_file_is_spooled_in_bounded_memory(sqlite_url: str, tmp_path: Path) -> None:
    settings = rating_settings(sqlite_url, usage_load_dir=str(tmp_path / "loads"), usage_load_poll_s=0)
    app = create_app(settings, clock=FixedClock(NOW))
    async with running_app(app) as client:
        rating = Rating(client, app.state.runtime.db, tmp_path / "loads")
        meter = (await create_meter(client))["code"]
        _, sub = await _customer(rating)
        produced = [0]
        tracemalloc.start()
        try:
            response = await client.post(
                "/v1/usage/files", content=_generated_file(sub, meter, produced, BIG_ROWS), headers=CSV
            )
            upload_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert response.status_code == 202, response.text
        spooled = await client.get(f"/v1/usage/files/{response.json()['id']}", headers=auth("ops"))

    size = produced[0]
    assert spooled.json()["size_bytes"] == size > 14_000_000
    assert (rating.spool / f"{response.json()['id']}.csv").stat().st_size == size
    # The upload never held the file.
    assert upload_peak < size / 20, (upload_peak, size)


async def test_a_big_file_is_loaded_in_flat_bounded_memory(sqlite_url: str, tmp_path: Path) -> None:
    settings = rating_settings(sqlite_url, usage_load_dir=str(tmp_path / "loads"), usage_load_poll_s=0)
    app = create_app(settings, clock=FixedClock(NOW))
    chunks = LoadSettings(chunk_rows=LOAD_CHUNK_ROWS)
    async with running_app(app) as client:
        rating = Rating(client, app.state.runtime.db, tmp_path / "loads")
        runtime: RatingRuntime = app.state.runtime
        meter = (await create_meter(client))["code"]
        _, sub = await _customer(rating)
        produced = [0]
        response = await client.post(
            "/v1/usage/files", content=_generated_file(sub, meter, produced, LOAD_ROWS), headers=CSV
        )
        assert response.status_code == 202, response.text
        load = await take_next_load(runtime.rating_unit_of_work, worker="big", lease=chunks.lease)
        assert load is not None
        files = runtime.usage_file_store()
        tracemalloc.start()
        try:
            # The first tenth of the chunks, then the other nine tenths: they need no more memory.
            before = tracemalloc.get_traced_memory()[0]
            await load_file(
                units_of_work=runtime.rating_unit_of_work,
                files=files,
                load=load,
                settings=chunks,
                max_chunks=LOAD_ROWS // LOAD_CHUNK_ROWS // 10,
            )
            first_peak = tracemalloc.get_traced_memory()[1] - before
            tracemalloc.reset_peak()
            await load_file(
                units_of_work=runtime.rating_unit_of_work, files=files, load=load, settings=chunks
            )
            rest_peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        done = await rating.finished(response.json()["id"])

    size = produced[0]
    assert done["size_bytes"] == size
    assert (done["rows_read"], done["accepted"], done["counted"], done["rejected"]) == (LOAD_ROWS,) * 3 + (0,)
    # Nine times more rows took no more memory: the load never holds the file, nor its rows.
    assert rest_peak < first_peak * 1.25 + 256 * 1024, (first_peak, rest_peak)
    if BIG_FILE:
        # The load's working set (a chunk read ahead, the one being written: about 6 MB traced)
        # is under half of the 14.6 MB file; the 4 MB file of the default run is smaller than it.
        assert rest_peak < size / 2, (rest_peak, size)


async def test_the_sweep_deletes_old_files_no_load_knows_and_keeps_every_load_s_file(manual: Manual) -> None:
    load_id = (await manual.rating.upload(b"event_id,account_id,meter,quantity,timestamp\n", CSV))["id"]
    spool = manual.rating.spool
    known, orphan, partial, fresh = (
        spool / f"{load_id}.csv",
        spool / "ul_01ORPHAN.csv",
        spool / "ul_01DIED.ndjson.part",
        spool / "ul_01FRESH.csv",
    )
    for path in (orphan, partial, fresh):
        path.write_bytes(b"x\n")
    two_days_ago = time.time() - 2 * 86400
    for path in (known, orphan, partial):
        os.utime(path, (two_days_ago, two_days_ago))

    deleted = await sweep_spool(
        units_of_work=manual.units_of_work,
        files=manual.runtime.usage_file_store(),
        older_than=timedelta(days=1),
    )

    assert deleted == 2
    assert sorted(path.name for path in spool.iterdir()) == sorted([known.name, fresh.name])
