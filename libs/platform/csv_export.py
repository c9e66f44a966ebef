"""One way to answer a report as CSV: the `format` query or the `Accept` header asks for it, the
body is UTF-8 `text/csv`, offered as a file download named after the report and its period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def wants_csv(request: Request, format: Literal["json", "csv"] | None) -> bool:
    """`format=csv`, or no `format` and an `Accept` naming text/csv."""
    return format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_download(content: str, filename: str) -> Response:
    """A CSV built whole, as a download named `filename`."""
    return Response(content, media_type=CSV_MEDIA_TYPE, headers=_attachment(filename))


def csv_stream(chunks: AsyncIterator[str], filename: str) -> StreamingResponse:
    """A CSV streamed as it is read (page by page), as a download named `filename`."""
    return StreamingResponse(chunks, media_type=CSV_MEDIA_TYPE, headers=_attachment(filename))
