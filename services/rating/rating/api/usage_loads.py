"""`/v1/usage/files`: upload a mediation file (CSV or NDJSON, streamed to disk), follow its loading."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from libs.platform.edge import edge_body
from libs.platform.openapi import response_links
from libs.platform.pagination import Page, PageParams
from libs.platform.problems import PROBLEM_MEDIA_TYPE, Problem
from rating.api.deps import ReadUow, UsageUow, id_path, runtime_from
from rating.domain.usage_loads import LoadFormat, LoadState
from rating.handlers import usage_loads as handlers
from rating.schemas.usage_loads import (
    LoadName,
    LoadRejectionPublic,
    UsageLoadPublic,
    upload_format,
    upload_request_body,
)

router = APIRouter(prefix="/v1/usage/files", tags=["usage"])
LoadId = Annotated[str, id_path("Usage load id (ul_…).")]
_PROBLEM = {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}}


@router.post(
    "",
    status_code=202,
    response_model=UsageLoadPublic,
    summary="Upload a mediation file of usage events (CSV or NDJSON)",
    description="The file is the body, streamed to disk as it arrives (never multipart, never held "
    "in memory), up to USAGE_FILE_MAX_BYTES (1 GiB). The answer comes once the file is on disk and "
    "its load is recorded: 202 with `Location: /v1/usage/files/{id}`; the service then loads it in "
    "chunks of up to 10,000 lines. Poll the load for its progress: rows read, accepted (counted, "
    "late, unmatched, filtered), duplicates, rejected with their lines and reasons. Every row goes "
    "through the same checks as POST /v1/usage; an event_id already stored is a duplicate, so the "
    "same file twice counts every row of the second load as a duplicate. CSV: a header line (see "
    'the request body), fields quoted with `"` where needed, no line breaks inside a field.',
    openapi_extra={"requestBody": upload_request_body()},
    responses={
        202: {
            "headers": {"Location": {"description": "The load's URL.", "schema": {"type": "string"}}},
            **response_links(
                202, {"get_usage_load": {"load_id": "/id"}, "list_usage_load_rejections": {"load_id": "/id"}}
            )[202],
        },
        413: {**_PROBLEM, "description": "The file is larger than USAGE_FILE_MAX_BYTES"},
        415: {**_PROBLEM, "description": "Neither the media type nor `?format=` names CSV or NDJSON"},
    },
)
@edge_body(stream=True, max_body_setting="usage_file_max_bytes")
async def upload_usage_file(
    request: Request,
    response: Response,
    uow: UsageUow,
    format: Annotated[
        LoadFormat | None, Query(description="csv or ndjson; by default the body's media type says.")
    ] = None,
    name: Annotated[LoadName | None, Query(description="What to call the file (its name, say).")] = None,
) -> UsageLoadPublic:
    fmt = upload_format(format, request.headers.get("content-type"))
    load = await handlers.receive_file(
        uow=uow, files=runtime_from(request).usage_file_store(), body=request.stream(), fmt=fmt, name=name
    )
    response.headers["Location"] = f"/v1/usage/files/{load.id}"
    return load


@router.get("", response_model=Page[UsageLoadPublic], summary="List mediation file loads (oldest first)")
async def list_usage_loads(
    uow: ReadUow, page: PageParams, state: Annotated[LoadState | None, Query()] = None
) -> Page[UsageLoadPublic]:
    return await handlers.list_loads(uow=uow, page=page, state=state)


@router.get(
    "/{load_id}",
    response_model=UsageLoadPublic,
    summary="A mediation file's load: its state and progress",
    description="Counts so far, the share of the file read, rows per second and the first rejected "
    "rows; counts move one committed chunk at a time.",
)
async def get_usage_load(load_id: LoadId, uow: ReadUow) -> UsageLoadPublic:
    return await handlers.get_load(uow=uow, load_id=load_id)


@router.get(
    "/{load_id}/rejections",
    response_model=Page[LoadRejectionPublic],
    summary="The rejected rows of a load, by line (the first 1,000 are kept)",
)
async def list_usage_load_rejections(
    load_id: LoadId, uow: ReadUow, page: PageParams
) -> Page[LoadRejectionPublic]:
    return await handlers.list_rejections(uow=uow, load_id=load_id, page=page)
