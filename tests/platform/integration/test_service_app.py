"""Cross-cutting behaviour every service shares, shown on a small app built the same way."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlmodel import select

from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.contracts.types import Amount, CurrencyCode
from libs.platform.auth import Principal, require_roles
from libs.platform.errors import Conflict
from libs.platform.idempotency import IdempotencyRecord
from libs.platform.outbox import OutboxMessage
from libs.platform.service import ServiceRuntime, create_service_app
from libs.platform.settings import Role
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.support.services import auth, running_app, service_settings


@event_type("test.credit_granted", topic="test.credits")
class CreditGranted(EventPayload):
    """A test event."""

    account_id: str


class CreditRequest(BaseModel):
    account_id: str
    amount: Amount
    currency: CurrencyCode


def _test_router() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/test-credits", status_code=201)
    async def create_credit(
        body: CreditRequest,
        request: Request,
        principal: Annotated[Principal, Depends(require_roles(Role.FINANCE))],
    ) -> dict[str, str]:
        if body.account_id == "acct_closed":
            raise Conflict("account is closed")
        async with request.app.state.runtime.unit_of_work(principal) as uow:
            uow.audit("credit.created", "account", body.account_id, {"amount": str(body.amount)})
            uow.emit(CreditGranted(account_id=body.account_id), key=body.account_id)
            await uow.commit()
        return {"account_id": body.account_id, "amount": str(body.amount), "currency": body.currency}

    return router


@pytest.fixture
def app_runtime(database_url: str) -> ServiceRuntime:
    return bootstrap(service_settings(RatingSettings, database_url=database_url, bootstrap=None))


@pytest.fixture
async def client(app_runtime: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(runtime=app_runtime, title="Test", description="test", routers=[_test_router()])
    async with running_app(app) as c:
        yield c


async def test_health_readiness_metrics_and_local_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert (await client.get("/static/swagger-ui/swagger-ui-bundle.js")).status_code == 200
    metrics = await client.get("/metrics")
    assert 'http_requests_total{method="GET",route="/healthz"' in metrics.text


async def test_missing_key_is_401_and_wrong_role_is_403_as_problem_json(client: httpx.AsyncClient) -> None:
    body = {"account_id": "acct_1", "amount": "10.00", "currency": "USD"}
    missing = await client.post("/v1/test-credits", json=body)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_role = await client.post("/v1/test-credits", json=body, headers=auth(Role.OPS))
    assert wrong_role.status_code == 403
    assert wrong_role.json()["status"] == 403
    assert (await client.post("/v1/test-credits", json=body, headers=auth(Role.FINANCE))).status_code == 201


async def test_invalid_fields_are_reported_together_with_their_paths(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/test-credits",
        json={"account_id": "acct_1", "amount": 10.5, "currency": "XYZ"},
        headers=auth(Role.FINANCE),
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/validation_failed"
    assert {e["field"] for e in problem["errors"]} == {"amount", "currency"}
    float_money = await client.post(
        "/v1/test-credits",
        json={"account_id": "acct_1", "amount": "1e-9", "currency": "USD"},
        headers=auth(Role.FINANCE),
    )
    assert float_money.status_code == 422


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/test-credits",
        content=b'{"account_id": ',
        headers={**auth(Role.FINANCE), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_domain_conflict_is_409(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/test-credits",
        json={"account_id": "acct_closed", "amount": "1.00", "currency": "USD"},
        headers=auth(Role.FINANCE),
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "account is closed"


async def test_idempotency_key_replays_same_request_and_refuses_another(client: httpx.AsyncClient) -> None:
    headers = {**auth(Role.FINANCE), "Idempotency-Key": "credit-0001"}
    body = {"account_id": "acct_2", "amount": "25.50", "currency": "USD"}
    first = await client.post("/v1/test-credits", json=body, headers=headers)
    again = await client.post("/v1/test-credits", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = await client.post("/v1/test-credits", json={**body, "amount": "99.00"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    # Only one change happened: the audit log holds one record for the account.
    log = await client.get("/v1/audit-log", params={"entity_id": "acct_2"}, headers=auth(Role.FINANCE))
    assert len(log.json()["data"]) == 1


async def test_audit_log_pages_with_a_cursor_and_records_who(client: httpx.AsyncClient) -> None:
    for i in range(5):
        body = {"account_id": f"acct_p{i}", "amount": "1.00", "currency": "USD"}
        assert (
            await client.post("/v1/test-credits", json=body, headers=auth(Role.FINANCE))
        ).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "entity_type": "account"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/audit-log", params=params, headers=auth(Role.OPS))).json()
        seen += [entry["entity_id"] for entry in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [f"acct_p{i}" for i in range(5)]
    bad = await client.get("/v1/audit-log", params={"cursor": "%%%"}, headers=auth(Role.OPS))
    assert bad.status_code == 422


async def test_correlation_id_travels_back_in_the_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Correlation-ID": "corr-123"})
    assert response.headers["x-correlation-id"] == "corr-123"


async def test_correlation_id_of_the_request_is_carried_into_its_events_and_audit(
    client: httpx.AsyncClient, app_runtime: ServiceRuntime
) -> None:
    headers = {**auth(Role.FINANCE), "X-Correlation-ID": "corr-credit-9"}
    body = {"account_id": "acct_c", "amount": "3.00", "currency": "USD"}
    assert (await client.post("/v1/test-credits", json=body, headers=headers)).status_code == 201
    async with app_runtime.db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    envelopes = [Envelope.model_validate_json(r.body) for r in rows]
    assert [e.correlation_id for e in envelopes if e.key == "acct_c"] == ["corr-credit-9"]
    log = await client.get("/v1/audit-log", params={"entity_id": "acct_c"}, headers=auth(Role.FINANCE))
    assert log.json()["data"][0]["correlation_id"] == "corr-credit-9"


async def test_nul_in_a_url_is_a_422_problem_and_records_nothing(
    client: httpx.AsyncClient, app_runtime: ServiceRuntime
) -> None:
    # PostgreSQL cannot hold NUL in text: a %00 in a filter or id must not reach the database (500).
    for query in ("entity_type=a%00b", "entity_id=%00"):
        response = await client.get(f"/v1/audit-log?{query}", headers=auth(Role.FINANCE))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert [e["field"] for e in problem["errors"]] == [f"query.{query.split('=')[0]}"]
    headers = {**auth(Role.FINANCE), "Idempotency-Key": "credit-nul"}
    body = {"account_id": "acct_nul", "amount": "1.00", "currency": "USD"}
    for url in ("/v1/test-credits%00", "/v1/test-credits?x=%00"):
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] in {"path", "query.x"}
    async with app_runtime.db.session() as session:
        assert (await session.exec(select(IdempotencyRecord))).all() == []
    log = await client.get("/v1/audit-log", params={"entity_id": "acct_nul"}, headers=auth(Role.FINANCE))
    assert log.json()["data"] == []


async def test_idempotency_key_is_freed_when_the_first_attempt_fails_unexpectedly(
    app_runtime: ServiceRuntime,
) -> None:
    # An unhandled error is answered as a 500 outside the idempotency middleware; the key must
    # not stay "in flight" for ever, or the client's retry with the same key is refused (409).
    attempts: list[int] = []
    router = APIRouter()

    @router.post("/v1/test-flaky", status_code=201)
    async def flaky() -> dict[str, int]:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("transient failure")
        return {"attempt": len(attempts)}

    app = create_service_app(runtime=app_runtime, title="Test", description="test", routers=[router])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = {**auth(), "Idempotency-Key": "flaky-0001"}
            first = await client.post("/v1/test-flaky", json={}, headers=headers)
            assert first.status_code == 500
            retry = await client.post("/v1/test-flaky", json={}, headers=headers)
            assert retry.status_code == 201, retry.text
            assert retry.json() == {"attempt": 2}
            replay = await client.post("/v1/test-flaky", json={}, headers=headers)
            assert replay.json() == {"attempt": 2}
            assert replay.headers.get("idempotent-replayed") == "true"


async def test_metrics_count_outbox_events_the_broker_refused(
    client: httpx.AsyncClient, app_runtime: ServiceRuntime
) -> None:
    body = {"account_id": "acct_parked", "amount": "1.00", "currency": "USD"}
    created = await client.post("/v1/test-credits", json=body, headers=auth(Role.FINANCE))
    assert created.status_code == 201, created.text
    before = (await client.get("/metrics")).text
    assert 'outbox_parked{service="rating"} 0.0' in before
    async with app_runtime.db.session() as session:
        row = (await session.exec(select(OutboxMessage))).first()
        assert row is not None
        row.parked_at, row.error = row.created_at, "MessageSizeTooLargeError"
        session.add(row)
        await session.commit()
    after = (await client.get("/metrics")).text
    assert 'outbox_parked{service="rating"} 1.0' in after


async def test_many_audit_records_are_inserted_at_once_and_read_like_single_ones(
    client: httpx.AsyncClient, app_runtime: ServiceRuntime
) -> None:
    """`audit_many` (a bill run's chunk: two records per invoice) records who and what as `audit` does,
    in the caller's transaction: a savepoint rolled back takes its records back."""
    principal = Principal(key_id="key_ops_bot", role=Role.OPS)
    async with app_runtime.unit_of_work(principal) as uow:
        await uow.audit_many(
            [
                ("invoice.drafted", "invoice", "inv_many", {"total": "10.00"}),
                ("invoice.finalized", "invoice", "inv_many", {"number": "INV-1"}),
            ]
        )
        try:
            async with uow.session.begin_nested():
                await uow.audit_many([("invoice.drafted", "invoice", "inv_undone", {})])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        await uow.commit()

    log = await client.get("/v1/audit-log", params={"entity_id": "inv_many"}, headers=auth(Role.FINANCE))
    records = log.json()["data"]
    assert [(r["action"], r["actor"], r["changes"]) for r in records] == [
        ("invoice.drafted", principal.actor, {"total": "10.00"}),
        ("invoice.finalized", principal.actor, {"number": "INV-1"}),
    ]
    undone = await client.get("/v1/audit-log", params={"entity_id": "inv_undone"}, headers=auth(Role.FINANCE))
    assert undone.json()["data"] == []


async def test_a_started_service_collects_its_young_generation_as_configured(sqlite_url: str) -> None:
    saved = gc.get_threshold()
    try:
        for young in (50_000, 0):
            gc.set_threshold(700, saved[1], saved[2])
            settings = service_settings(
                RatingSettings, database_url=sqlite_url, bootstrap=None, gc_young_threshold=young
            )
            runtime = bootstrap(settings)
            app = create_service_app(runtime=runtime, title="Test", description="test", routers=[])
            async with running_app(app):
                assert gc.get_threshold() == (young or 700, saved[1], saved[2])
    finally:
        gc.set_threshold(*saved)
