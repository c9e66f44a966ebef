"""A card number anywhere in a request to a real service app is a 422 that stores and logs nothing.

Catalog and rating run in-process on SQLite files (their lifespan, migrations and every layer
of the edge), as a client reaches them; after each refusal the database holds the same rows as
before, no file of it holds the number, and no rendered log line does.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from catalog.app import create_app as create_catalog_app
from catalog.config import CatalogSettings
from libs.platform.card_numbers import mask_log_event
from libs.platform.logging import get_logger
from rating.app import create_app as create_rating_app
from rating.config import RatingSettings
from tests.catalog.integration.factories import product as product_body
from tests.rating.integration.factories import create_meter, usage_event
from tests.support.services import auth, running_app, service_settings

PAN = "4111111111111111"
GROUPED = "4111 1111 1111 1111"
DASHED = "5555-5555-5555-4444"
ADMIN = auth("admin")
ERP = auth("erp")


def _db_url(directory: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{directory}/{name}.db"


@pytest.fixture
async def catalog(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = service_settings(CatalogSettings, database_url=_db_url(tmp_path, "catalog"), bootstrap=None)
    async with running_app(create_catalog_app(settings)) as client:
        yield client


@pytest.fixture
async def rating(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = service_settings(
        RatingSettings,
        database_url=_db_url(tmp_path, "rating"),
        bootstrap=None,
        usage_load_dir=str(tmp_path / "spool"),
        usage_load_poll_s=0,
    )
    async with running_app(create_rating_app(settings)) as client:
        yield client


def _row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables
        }


def _stored_bytes(directory: Path) -> bytes:
    """Every byte of every file under `directory`: database, its WAL, spooled uploads."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def _digits_absent(data: bytes, *numbers: str) -> bool:
    return all(
        written.encode() not in data
        for number in numbers
        for written in (number, number.replace(" ", "").replace("-", ""))
    )


@contextmanager
def rendered_log_lines() -> Iterator[list[str]]:
    """Every log line the configured structlog pipeline renders meanwhile (its real output text)."""
    processors: list[Callable[..., Any]] = structlog.get_config()["processors"]
    renderer = processors[-1]
    lines: list[str] = []

    def recording(logger: Any, method: str, event: Any) -> Any:
        rendered = renderer(logger, method, event)
        lines.append(str(rendered))
        return rendered

    # In place: loggers already in use (cached on first use) share this list.
    processors[-1] = recording
    try:
        yield lines
    finally:
        processors[-1] = renderer


def _refusal(response: httpx.Response, field: str, last_four: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, "card_number")]
    assert f"…{last_four}" in problem["errors"][0]["message"]
    assert _digits_absent(response.content, PAN, GROUPED, DASHED)
    return problem


async def test_a_card_number_in_any_part_of_a_catalog_request_is_refused_and_stored_nowhere(
    catalog: httpx.AsyncClient, tmp_path: Path
) -> None:
    created = await catalog.post(
        "/v1/products",
        json=product_body(sku="SKU-PAN-0"),
        headers={**ADMIN, "Idempotency-Key": "first"},
    )
    assert created.status_code == 201, created.text
    before = _row_counts(tmp_path / "catalog.db")
    product = product_body(sku="SKU-PAN-1")
    keyed = {**ADMIN, "Idempotency-Key": "k-1"}

    with rendered_log_lines() as lines:
        _refusal(
            await catalog.post("/v1/products", json={**product, "name": PAN}, headers=keyed), "name", "1111"
        )
        nested = {**product, "name": "x", "attributes": {"notes": ["fine", f"card {GROUPED} exp 12/29"]}}
        _refusal(await catalog.post("/v1/products", json=nested, headers=keyed), "attributes.notes.1", "1111")
        as_number = json.dumps({**product, "name": "x", "seats": int(PAN)})
        response = await catalog.post(
            "/v1/products", content=as_number, headers={**keyed, "content-type": "application/json"}
        )
        _refusal(response, "seats", "1111")
        _refusal(
            await catalog.get("/v1/products", params={"sku": DASHED}, headers=ADMIN), "query.sku", "4444"
        )
        by_path = _refusal(await catalog.get(f"/v1/products/{PAN}", headers=ADMIN), "path", "1111")
        assert by_path["instance"] == "/v1/products/[card ****1111]"
        unmatched = await catalog.get(f"/no/such/{GROUPED.replace(' ', '-')}")
        _refusal(unmatched, "path", "1111")  # before the key is checked, before any 404
        key = {**ADMIN, "Idempotency-Key": DASHED}
        _refusal(
            await catalog.post("/v1/products", json={**product, "name": "y"}, headers=key),
            "header.idempotency-key",
            "4444",
        )
        correlated = await catalog.get("/v1/products", headers={**ADMIN, "X-Correlation-ID": PAN})
        _refusal(correlated, "header.x-correlation-id", "1111")
        assert PAN not in correlated.headers["x-correlation-id"]
        # The same key with a clean body was never claimed: it creates the product.
        clean = await catalog.post("/v1/products", json={**product, "name": "z"}, headers=keyed)
        assert clean.status_code == 201, clean.text
        get_logger("test").warning("card.leak_attempt", note=f"customer wrote {GROUPED}", pan=int(PAN))

    after = _row_counts(tmp_path / "catalog.db")
    grown = {table: after[table] - before[table] for table in after if after[table] != before[table]}
    assert grown == {"products": 1, "idempotency_keys": 1, "audit_log": 1, "outbox": 1}, grown
    assert _digits_absent(_stored_bytes(tmp_path), PAN, GROUPED, DASHED)
    assert any("card.leak_attempt" in line for line in lines)
    assert all(_digits_absent(line.encode(), PAN, GROUPED, DASHED) for line in lines), lines
    assert any("[card ****1111]" in line for line in lines)


def test_the_one_logging_configuration_masks_card_numbers() -> None:
    from libs.platform.logging import configure_logging

    configure_logging()
    assert mask_log_event in structlog.get_config()["processors"]


async def _pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_a_card_number_in_a_usage_batch_or_a_streamed_usage_file_is_refused_and_nothing_kept(
    rating: httpx.AsyncClient, tmp_path: Path
) -> None:
    meter = (await create_meter(rating, code="api_calls_pan"))["code"]
    before = _row_counts(tmp_path / "rating.db")
    events = [usage_event(meter, account_id="acct_1") for _ in range(3)]
    events[2]["properties"] = {"region": "eu", "card": DASHED}
    ndjson = "\n".join(json.dumps(event) for event in events).encode()
    ndjson_headers = {**ERP, "content-type": "application/x-ndjson", "Idempotency-Key": "batch-1"}

    with rendered_log_lines() as lines:
        response = await rating.post("/v1/usage", content=ndjson, headers=ndjson_headers)
        _refusal(response, "lines.2.properties.card", "4444")
        as_json = await rating.post("/v1/usage", json={"events": events}, headers=ERP)
        _refusal(as_json, "events.2.properties.card", "4444")
        # A file streamed in chunks that split the number in two.
        header = b"event_id,meter,quantity,timestamp,account_id,properties.note\n"
        row = f"ev-1,{meter},1,2026-07-01T09:30:00Z,acct_1,card {GROUPED}\n".encode()
        cut = row.index(b"1111 1111") + 2
        upload_headers = {**ERP, "content-type": "text/csv", "Idempotency-Key": "file-1"}
        body = _pieces(header, row[:cut], row[cut:], b"ev-2,x,1,2026-07-01T09:30:00Z,acct_1,ok\n")
        uploaded = await rating.post("/v1/usage/files", content=body, headers=upload_headers)
        _refusal(uploaded, "body", "1111")

    after = _row_counts(tmp_path / "rating.db")
    assert after == before
    assert not [path for path in (tmp_path / "spool").rglob("*") if path.is_file()]
    assert _digits_absent(_stored_bytes(tmp_path), PAN, GROUPED, DASHED)
    assert all(_digits_absent(line.encode(), PAN, GROUPED, DASHED) for line in lines), lines
    # Neither idempotency key was claimed: the clean request goes through with it.
    events[2]["properties"] = {"region": "eu"}
    clean = "\n".join(json.dumps(event) for event in events).encode()
    response = await rating.post("/v1/usage", content=clean, headers=ndjson_headers)
    assert response.status_code == 200, response.text
    assert response.json()["received"] == 3
    clean_file = await rating.post(
        "/v1/usage/files",
        content=_pieces(header, b"ev-9,x,1,2026-07-01T09:30:00Z,acct_1,ok\n"),
        headers=upload_headers,
    )
    assert clean_file.status_code == 202, clean_file.text


async def test_a_large_usage_batch_with_long_numbers_that_are_no_card_numbers_passes(
    rating: httpx.AsyncClient,
) -> None:
    meter = (await create_meter(rating, code="api_calls_big"))["code"]
    lines = []
    for index in range(10_000):
        event = usage_event(meter, account_id="acct_1", event_id=str(uuid.uuid4()))
        event["properties"] = {
            "ts_ns": 1_764_495_227_123_456_789 + index,  # epoch nanoseconds
            "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
            "amount": "1234567890123.45",
            "window": "2026-07-01 2026-07-31",
        }
        lines.append(json.dumps(event))
    body = "\n".join(lines).encode()
    response = await rating.post(
        "/v1/usage", content=body, headers={**ERP, "content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text[:500]
    assert response.json()["received"] == 10_000
