"""Hot JSON routes (libs/platform/hot_routes.py): a plain, authorised request is answered from
the ASGI layer; everything else gets exactly the answer the full stack gives.

Each case is sent to a hot route and to its cold twin (the same declaration and answer function,
not marked hot): the two answers must be the same, status, headers that matter and body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from libs.platform.auth import Principal, require_roles
from libs.platform.errors import NotFound
from libs.platform.hot_routes import hot_json
from libs.platform.service import create_service_app
from libs.platform.settings import Role
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.support.services import auth, running_app, service_settings

Caller = Annotated[Principal, Depends(require_roles(Role.CRM, Role.ERP))]
CARD = "4111111111111111"


class Ask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z]{1,16}$")
    count: int = Field(ge=0)


calls = {"answer": 0, "endpoint": 0}


async def answer(runtime: Any, caller: Principal, body: Ask) -> bytes:
    calls["answer"] += 1
    if body.name == "missing":
        raise NotFound("thing", body.name)
    return json.dumps({"name": body.name, "count": body.count, "role": caller.role.value}).encode()


def _router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/hot", summary="Ask", max_body_size=256)
    @hot_json(answer)
    async def hot(body: Ask, request: Request, caller: Caller) -> Response:
        calls["endpoint"] += 1
        return Response(await answer(request.app.state.runtime, caller, body), media_type="application/json")

    @router.post("/cold", summary="Ask", max_body_size=256)
    async def cold(body: Ask, request: Request, caller: Caller) -> Response:
        return Response(await answer(request.app.state.runtime, caller, body), media_type="application/json")

    return router


def _app(sqlite_url: str) -> FastAPI:
    runtime = bootstrap(service_settings(RatingSettings, database_url=sqlite_url, bootstrap=None))
    return create_service_app(runtime=runtime, title="Test", description="test", routers=[_router()])


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(_app(sqlite_url)) as c:
        yield c


def _same(hot: httpx.Response, cold: httpx.Response) -> None:
    assert hot.status_code == cold.status_code, (hot.text, cold.text)
    assert hot.headers.get("content-type") == cold.headers.get("content-type")
    assert hot.headers.get("www-authenticate") == cold.headers.get("www-authenticate")
    if hot.headers.get("content-type", "").endswith("json"):
        mine, theirs = hot.json(), cold.json()
        if isinstance(mine, dict) and isinstance(theirs, dict):
            assert mine.pop("instance", "/v1/hot") == "/v1/hot"
            assert theirs.pop("instance", "/v1/cold") == "/v1/cold"
            mine.pop("correlation_id", None)
            theirs.pop("correlation_id", None)
        assert mine == theirs
    else:
        assert hot.content == cold.content


async def _both(client: httpx.AsyncClient, **request: Any) -> tuple[httpx.Response, httpx.Response]:
    return (await client.post("/v1/hot", **request), await client.post("/v1/cold", **request))


async def test_a_plain_request_is_answered_by_the_fast_path_as_the_route_would(
    client: httpx.AsyncClient,
) -> None:
    calls.update(answer=0, endpoint=0)
    hot, cold = await _both(client, json={"name": "abc", "count": 2}, headers=auth(Role.CRM))
    assert hot.status_code == 200
    assert hot.json() == {"name": "abc", "count": 2, "role": "crm"}
    _same(hot, cold)
    assert calls == {"answer": 2, "endpoint": 0}  # the hot one never reached its endpoint
    assert hot.headers["content-length"] == str(len(hot.content))
    # Request ids as on every route: a new one, or the caller's echoed.
    assert len(hot.headers["x-correlation-id"]) == 32
    echoed = await client.post(
        "/v1/hot", json={"name": "abc", "count": 2}, headers={**auth(Role.ERP), "X-Correlation-ID": "req-7"}
    )
    assert echoed.headers["x-correlation-id"] == "req-7"


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"json": {"name": "abc", "count": 1}}, id="no key"),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": {"Authorization": "Bearer wrong"}},
            id="wrong key",
        ),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": {"X-API-Key": "wrong"}}, id="wrong x-api-key"
        ),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": auth(Role.OPS)}, id="role not admitted"
        ),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": auth(Role.FINANCE)}, id="finance not admitted"
        ),
        pytest.param({"json": {"name": "ABC", "count": -1}, "headers": auth(Role.CRM)}, id="invalid fields"),
        pytest.param(
            {"json": {"name": "abc", "count": 1, "x": 1}, "headers": auth(Role.CRM)}, id="extra field"
        ),
        pytest.param({"json": {"name": "abc"}, "headers": auth(Role.CRM)}, id="missing field"),
        pytest.param({"json": [1, 2], "headers": auth(Role.CRM)}, id="not an object"),
        pytest.param(
            {"content": b'{"name": "abc", "count": ', "headers": auth(Role.CRM)}, id="malformed json"
        ),
        pytest.param({"content": b"", "headers": auth(Role.CRM)}, id="empty body"),
        pytest.param(
            {"content": b'{"name": "abc", "count": 0.99999999999999999}', "headers": auth(Role.CRM)},
            id="inexact number",
        ),
        pytest.param(
            {"json": {"name": "abc", "count": 1, "pad": "x" * 400}, "headers": auth(Role.CRM)},
            id="over the route's body limit",
        ),
        pytest.param(
            {"json": {"name": CARD, "count": 1}, "headers": auth(Role.CRM)}, id="card number in body"
        ),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": {**auth(Role.CRM), "X-Note": CARD}},
            id="card number in a header",
        ),
        pytest.param(
            {"content": b"name=abc&count=1", "headers": {**auth(Role.CRM), "Content-Type": "text/plain"}},
            id="not json",
        ),
        pytest.param({"json": {"name": "missing", "count": 1}, "headers": auth(Role.CRM)}, id="domain error"),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": auth(Role.CRM), "params": {"q": "1"}},
            id="query string",
        ),
        pytest.param(
            {"json": {"name": "abc", "count": 1}, "headers": {**auth(Role.CRM), "Idempotency-Key": ""}},
            id="empty idempotency key",
        ),
    ],
)
async def test_anything_but_a_plain_request_gets_the_full_stacks_answer(
    client: httpx.AsyncClient, request_: dict[str, Any]
) -> None:
    hot, cold = await _both(client, **request_)
    _same(hot, cold)


async def test_refusals_are_the_same_problems_as_before(client: httpx.AsyncClient) -> None:
    no_key = await client.post("/v1/hot", json={"name": "abc", "count": 1})
    assert no_key.status_code == 401
    assert no_key.headers["content-type"] == "application/problem+json"
    assert no_key.headers["www-authenticate"] == "Bearer"
    assert no_key.json()["code"] == "unauthorized"
    assert no_key.json()["instance"] == "/v1/hot"
    forbidden = await client.post("/v1/hot", json={"name": "abc", "count": 1}, headers=auth(Role.OPS))
    assert forbidden.status_code == 403
    invalid = await client.post("/v1/hot", json={"name": "abc", "count": -1}, headers=auth(Role.CRM))
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "validation_failed"
    assert [e["field"] for e in invalid.json()["errors"]] == ["count"]
    missing = await client.post("/v1/hot", json={"name": "missing", "count": 1}, headers=auth(Role.CRM))
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert missing.json()["instance"] == "/v1/hot"


async def test_an_idempotency_key_goes_through_the_idempotency_layer(client: httpx.AsyncClient) -> None:
    calls.update(answer=0, endpoint=0)
    headers = {**auth(Role.CRM), "Idempotency-Key": "k-1"}
    first = await client.post("/v1/hot", json={"name": "abc", "count": 1}, headers=headers)
    again = await client.post("/v1/hot", json={"name": "abc", "count": 1}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert calls == {"answer": 1, "endpoint": 1}  # the second is the stored answer replayed


async def test_hot_requests_are_counted_in_metrics_under_the_routes_template(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        await client.post("/v1/hot", json={"name": "abc", "count": 1}, headers=auth(Role.CRM))
        await client.post("/v1/cold", json={"name": "abc", "count": 1}, headers=auth(Role.CRM))
    metrics = (await client.get("/metrics")).text
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("http_requests_total{") and 'status="200"' in line
    ]
    hot = [line for line in counted if 'route="/hot"' in line or 'route="/v1/hot"' in line]
    cold = [line for line in counted if 'route="/cold"' in line or 'route="/v1/cold"' in line]
    assert hot and cold
    assert hot[0].rsplit(" ", 1)[1] == cold[0].rsplit(" ", 1)[1] == "3.0"


async def test_the_openapi_document_is_the_routes_own(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    hot, cold = paths["/v1/hot"]["post"], paths["/v1/cold"]["post"]
    for operation in (hot, cold):
        operation.pop("operationId")
    assert hot == cold
    assert hot["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Ask"}


def test_a_hot_route_without_require_roles_is_refused(sqlite_url: str) -> None:
    router = APIRouter()

    @router.post("/v1/open")
    @hot_json(answer)
    async def open_route(body: Ask) -> dict[str, str]:
        return {}

    runtime = bootstrap(service_settings(RatingSettings, database_url=sqlite_url, bootstrap=None))
    with pytest.raises(ValueError, match="require_roles"):
        create_service_app(runtime=runtime, title="Test", description="test", routers=[router])


async def test_a_streamed_body_over_the_limit_is_the_edges_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "abc", "count": 1, "pad": "'
        for _ in range(10):
            yield b"x" * 100
        yield b'"}'

    answers = [
        await client.post(
            path, content=chunks(), headers={**auth(Role.CRM), "content-type": "application/json"}
        )
        for path in ("/v1/hot", "/v1/cold")
    ]
    assert answers[0].status_code == 413
    _same(*answers)


def test_a_hot_route_with_another_dependency_or_parameter_is_refused(sqlite_url: str) -> None:
    async def rate_limit() -> None:
        return None

    for extra in ("dependency", "query"):
        router = APIRouter()
        if extra == "dependency":

            @router.post("/v1/limited", dependencies=[Depends(rate_limit)])
            @hot_json(answer)
            async def limited(body: Ask, caller: Caller) -> dict[str, str]:
                return {}
        else:

            @router.post("/v1/queried")
            @hot_json(answer)
            async def queried(body: Ask, caller: Caller, verbose: bool = False) -> dict[str, str]:
                return {}

        runtime = bootstrap(service_settings(RatingSettings, database_url=sqlite_url, bootstrap=None))
        with pytest.raises(ValueError, match="would skip"):
            create_service_app(runtime=runtime, title="Test", description="test", routers=[router])
