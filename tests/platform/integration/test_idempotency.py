"""Idempotency-Key: exactly once, 24 hours per API key, same request = same JSON, same answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlmodel import select, update

from libs.platform.audit import AuditRecord
from libs.platform.auth import Principal, require_roles
from libs.platform.db import utcnow
from libs.platform.idempotency import IdempotencyRecord
from libs.platform.service import ServiceRuntime, create_service_app
from libs.platform.settings import Role
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.support.polling import eventually
from tests.support.services import auth, service_settings

Finance = Annotated[Principal, Depends(require_roles(Role.FINANCE))]


class Credit(BaseModel):
    account_id: str
    amount: str


class Gates:
    """Lets a test hold a request in the middle of its handler."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.fail_after_commit = 0


def _router(gates: Gates) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/test-credits", status_code=201)
    async def create_credit(
        body: Credit, request: Request, response: Response, caller: Finance
    ) -> dict[str, str]:
        async with request.app.state.runtime.unit_of_work(caller) as uow:
            uow.audit("credit.created", "account", body.account_id, {"amount": body.amount})
            await uow.commit()
        response.headers["Location"] = f"/v1/test-credits/{body.account_id}"
        return {
            "account_id": body.account_id,
            "amount": body.amount,
            "mode": request.query_params.get("mode", ""),
        }

    @router.post("/v1/test-fragile-credits", status_code=201)
    async def commit_then_fail(body: Credit, request: Request, caller: Finance) -> dict[str, str]:
        async with request.app.state.runtime.unit_of_work(caller) as uow:
            uow.audit("credit.created", "account", body.account_id, {"amount": body.amount})
            await uow.commit()
        if gates.fail_after_commit > 0:
            gates.fail_after_commit -= 1
            raise RuntimeError("failed after the change was committed")
        return {"account_id": body.account_id}

    @router.post("/v1/test-slow-credits", status_code=201)
    async def slow(body: Credit, request: Request, caller: Finance) -> dict[str, str]:
        if not gates.started.is_set():
            gates.started.set()
            await gates.release.wait()
        async with request.app.state.runtime.unit_of_work(caller) as uow:
            uow.audit("credit.created", "account", body.account_id, {"amount": body.amount})
            await uow.commit()
        return {"account_id": body.account_id}

    @router.post("/v1/test-notes", status_code=201)
    async def raw_note(request: Request, caller: Finance) -> dict[str, int]:
        return {"length": len(await request.body())}

    return router


@pytest.fixture
def runtime(database_url: str) -> ServiceRuntime:
    settings = service_settings(
        RatingSettings, database_url=database_url, bootstrap=None, idempotency_lease_s=60
    )
    return bootstrap(settings)


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
async def client(runtime: ServiceRuntime, gates: Gates) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(runtime=runtime, title="Test", description="test", routers=[_router(gates)])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as c:
            yield c


async def _changes(runtime: ServiceRuntime, account_id: str) -> int:
    async with runtime.db.session() as session:
        rows = await session.exec(select(AuditRecord).where(AuditRecord.entity_id == account_id))
        return len(rows.all())


def _headers(key: str, role: Role = Role.FINANCE) -> dict[str, str]:
    return {**auth(role), "Idempotency-Key": key, "content-type": "application/json"}


async def test_reindented_json_with_keys_in_another_order_replays_the_first_response_and_its_location(
    client: httpx.AsyncClient, runtime: ServiceRuntime
) -> None:
    first = await client.post(
        "/v1/test-credits", content=b'{"account_id":"acct_r","amount":"5.00"}', headers=_headers("k-reindent")
    )
    assert first.status_code == 201, first.text
    again = await client.post(
        "/v1/test-credits",
        content=b'{\n    "amount": "5.00",\n    "account_id": "acct_r"\n}\n',
        headers=_headers("k-reindent"),
    )
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"] == "/v1/test-credits/acct_r"
    assert again.headers["idempotent-replayed"] == "true"
    assert await _changes(runtime, "acct_r") == 1


async def test_json_numbers_are_compared_as_written_and_other_bodies_byte_for_byte(
    client: httpx.AsyncClient,
) -> None:
    note = {**auth(Role.FINANCE), "Idempotency-Key": "k-note", "content-type": "text/plain"}
    assert (await client.post("/v1/test-notes", content=b"a b", headers=note)).status_code == 201
    replay = await client.post("/v1/test-notes", content=b"a b", headers=note)
    assert replay.headers.get("idempotent-replayed") == "true"
    other = await client.post("/v1/test-notes", content=b"a  b", headers=note)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


async def test_the_query_string_is_part_of_the_request(
    client: httpx.AsyncClient, runtime: ServiceRuntime
) -> None:
    body = {"account_id": "acct_q", "amount": "1.00"}
    first = await client.post("/v1/test-credits?mode=a", json=body, headers=_headers("k-query"))
    assert first.status_code == 201
    other = await client.post("/v1/test-credits?mode=b", json=body, headers=_headers("k-query"))
    assert other.status_code == 409, other.text
    assert other.json()["code"] == "idempotency_key_reused"
    assert await _changes(runtime, "acct_q") == 1


async def test_a_change_committed_before_the_handler_failed_is_applied_once_on_retry(
    client: httpx.AsyncClient, runtime: ServiceRuntime, gates: Gates
) -> None:
    gates.fail_after_commit = 1
    body = {"account_id": "acct_f", "amount": "2.00"}
    failed = await client.post("/v1/test-fragile-credits", json=body, headers=_headers("k-fragile"))
    assert failed.status_code == 500
    # The failed attempt left nothing behind: its change went with its answer.
    assert await _changes(runtime, "acct_f") == 0
    retry = await client.post("/v1/test-fragile-credits", json=body, headers=_headers("k-fragile"))
    assert retry.status_code == 201, retry.text
    assert await _changes(runtime, "acct_f") == 1


async def test_a_request_that_never_finished_frees_its_key_after_the_lease_and_cannot_commit_late(
    client: httpx.AsyncClient, runtime: ServiceRuntime, gates: Gates
) -> None:
    # The first attempt hangs (think: its process died); the client's retry is refused while the
    # lease runs, then takes the key over. When the first one wakes up, it must not apply twice.
    body = {"account_id": "acct_s", "amount": "3.00"}
    stuck = asyncio.create_task(client.post("/v1/test-slow-credits", json=body, headers=_headers("k-slow")))
    await asyncio.wait_for(gates.started.wait(), timeout=10)
    in_flight = await client.post("/v1/test-slow-credits", json=body, headers=_headers("k-slow"))
    assert in_flight.status_code == 409 and in_flight.json()["code"] == "idempotency_key_in_flight"
    # The lease runs out (set back in the database rather than waited for, so load cannot race it).
    async with runtime.db.session() as session:
        await session.exec(update(IdempotencyRecord).values(locked_until=utcnow() - timedelta(seconds=1)))
        await session.commit()

    async def retry() -> httpx.Response:
        return await client.post("/v1/test-slow-credits", json=body, headers=_headers("k-slow"))

    retry_response = await eventually(retry, until=lambda r: r.status_code != 409, timeout_s=10)
    assert retry_response.status_code == 201, retry_response.text
    gates.release.set()
    late = await asyncio.wait_for(stuck, timeout=10)
    assert late.status_code == 409, late.text
    assert await _changes(runtime, "acct_s") == 1
    replay = await client.post("/v1/test-slow-credits", json=body, headers=_headers("k-slow"))
    assert replay.headers.get("idempotent-replayed") == "true"


async def test_keys_expire_after_the_window(client: httpx.AsyncClient, runtime: ServiceRuntime) -> None:
    body = {"account_id": "acct_e", "amount": "4.00"}
    assert (await client.post("/v1/test-credits", json=body, headers=_headers("k-expiry"))).status_code == 201
    async with runtime.db.session() as session:
        await session.exec(
            update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )
        await session.commit()
    other = {"account_id": "acct_e", "amount": "9.00"}
    fresh = await client.post("/v1/test-credits", json=other, headers=_headers("k-expiry"))
    assert fresh.status_code == 201, fresh.text
    assert fresh.headers.get("idempotent-replayed") is None
    assert await _changes(runtime, "acct_e") == 2


async def test_an_unknown_api_key_gets_401_never_the_stored_response(
    client: httpx.AsyncClient, runtime: ServiceRuntime
) -> None:
    body = {"account_id": "acct_a", "amount": "6.00"}
    assert (await client.post("/v1/test-credits", json=body, headers=_headers("k-auth"))).status_code == 201
    for credentials in ({"Authorization": "Bearer not-a-key"}, {}):
        headers = {**credentials, "Idempotency-Key": "k-auth"}
        response = await client.post("/v1/test-credits", json=body, headers=headers)
        assert response.status_code == 401
        assert "idempotent-replayed" not in response.headers
        assert "acct_a" not in response.text
    # Another valid key does not see the first key's answer either: it is a new request.
    other_key = await client.post("/v1/test-credits", json=body, headers=_headers("k-auth", Role.ADMIN))
    assert other_key.status_code == 201 and "idempotent-replayed" not in other_key.headers
    async with runtime.db.session() as session:
        owners = (await session.exec(select(IdempotencyRecord.owner))).all()
    assert len(owners) == 2


async def test_a_stored_response_keeps_every_header_of_the_answer(client: httpx.AsyncClient) -> None:
    body = {"account_id": "acct_h", "amount": "7.00"}
    first = await client.post("/v1/test-credits", json=body, headers=_headers("k-headers"))
    replay = await client.post("/v1/test-credits", json=body, headers=_headers("k-headers"))
    assert replay.status_code == first.status_code == 201
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert replay.headers["location"] == first.headers["location"]
    assert json.loads(replay.content) == first.json()
