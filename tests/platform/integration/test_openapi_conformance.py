"""What every service's OpenAPI document promises about the shared edge, checked against the server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends

from libs.platform.auth import Principal, require_roles
from libs.platform.pagination import PageParams, encode_cursor
from libs.platform.service import create_service_app
from libs.platform.settings import Role
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.support.services import auth, running_app, service_settings

Reader = Annotated[Principal, Depends(require_roles(Role.OPS))]


def _resource_router() -> APIRouter:
    """Paths with GET and POST, GET and PATCH, and POST alone: each method is its own FastAPI route."""
    router = APIRouter()

    @router.get("/v1/test-things")
    async def list_things(page: PageParams, _: Reader) -> dict[str, str | None]:
        return {"after": page.after}

    @router.post("/v1/test-things", status_code=201)
    async def create_thing(_: Reader) -> dict[str, str]:
        return {"id": "thg_1"}

    @router.post("/v1/test-things/recount")
    async def recount_things(_: Reader) -> dict[str, str]:
        return {}

    @router.get("/v1/test-things/{thing_id}")
    async def get_thing(thing_id: str, _: Reader) -> dict[str, str]:
        return {"id": thing_id}

    @router.patch("/v1/test-things/{thing_id}")
    async def change_thing(thing_id: str, _: Reader) -> dict[str, str]:
        return {"id": thing_id}

    return router


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    runtime = bootstrap(service_settings(RatingSettings, database_url=database_url, bootstrap=None))
    app = create_service_app(runtime=runtime, title="Test", description="test", routers=[_resource_router()])
    async with running_app(app) as c:
        yield c


def _allowed(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/test-things", {"GET", "POST"}),
        ("PUT", "/v1/test-things/thg_1", {"GET", "PATCH"}),
        ("OPTIONS", "/v1/test-things/thg_1", {"GET", "PATCH"}),
        ("POST", "/v1/audit-log", {"GET"}),
        # A concrete path is its own resource (OpenAPI matches it before a templated one).
        ("OPTIONS", "/v1/test-things/recount", {"POST"}),
    ],
)
async def test_a_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allowed: set[str]
) -> None:
    response = await client.request(method, path, headers=auth(Role.OPS))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert _allowed(response) == allowed


async def test_the_cursor_parameter_says_what_a_cursor_is(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    (cursor,) = [p for p in document["paths"]["/v1/audit-log"]["get"]["parameters"] if p["name"] == "cursor"]
    (pattern,) = [kind["pattern"] for kind in cursor["schema"]["anyOf"] if kind["type"] == "string"]
    issued = encode_cursor("usr_ana@example.com ü")
    assert re.fullmatch(pattern, issued)
    for malformed in ("%%%", "a b", "abc=", "ab.c"):
        assert not re.fullmatch(pattern, malformed)


@pytest.mark.parametrize("malformed", ["%%%", "a b", "abc=", "ab.c", "x" * 1025])
async def test_a_cursor_outside_its_pattern_is_a_422_problem(
    client: httpx.AsyncClient, malformed: str
) -> None:
    response = await client.get("/v1/test-things", params={"cursor": malformed}, headers=auth(Role.OPS))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize("odd", ["A", "AAAAA", "gICA", "AA", "_w", "AAEC"])
async def test_every_cursor_inside_its_pattern_names_a_position(client: httpx.AsyncClient, odd: str) -> None:
    # Not every such string is one this API returned (a dangling character, bytes that are not
    # UTF-8, control characters), but each still names a place in the order: the page after it.
    response = await client.get("/v1/test-things", params={"cursor": odd}, headers=auth(Role.OPS))
    assert response.status_code == 200, response.text
    after = response.json()["after"]
    assert after is None or after.isprintable()


async def test_an_issued_cursor_names_the_key_it_was_made_from(client: httpx.AsyncClient) -> None:
    key = "usr_ana@example.com ü"
    cursor = encode_cursor(key)
    response = await client.get("/v1/test-things", params={"cursor": cursor}, headers=auth(Role.OPS))
    assert response.json() == {"after": key}
