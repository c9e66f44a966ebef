"""RFC 9457 problem+json for every error a service returns (DESIGN §6).

Domain errors map by their `status`; request validation failures become 422 with one entry per
field — the first MAX_REPORTED_ERRORS of them, with `omitted_errors` counting the rest, so a
body with thousands of bad fields still gets a small answer; nothing reaches the client as an
unformatted 500.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.platform.errors import DomainError, FieldError, ValidationFailed
from libs.platform.logging import current_correlation_id, get_logger

log = get_logger("problems")
PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_REPORTED_ERRORS = 50


class FieldProblem(BaseModel):
    """One invalid field."""

    field: str = Field(examples=["tiers.1.up_to"])
    message: str
    code: str = "invalid"


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", examples=["/problems/validation_failed"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str | None = None
    correlation_id: str | None = None
    errors: list[FieldProblem] = Field(default_factory=list)
    omitted_errors: int | None = Field(
        default=None,
        description=f"How many more field errors there were beyond the first {MAX_REPORTED_ERRORS}",
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": title}
    for status, title in {
        400: "Bad request",
        401: "Missing or invalid API key",
        403: "Role not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Content too large",
        422: "Validation failed",
    }.items()
}


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    code: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    omitted_errors: int = 0,
    instance: str | None = None,
) -> JSONResponse:
    """Build a problem+json response (at most MAX_REPORTED_ERRORS field errors, the rest counted).

    `instance` is the request's path unless given (a path that must not be echoed, masked).
    """
    errors = errors or []
    omitted_errors += max(0, len(errors) - MAX_REPORTED_ERRORS)
    body = Problem(
        type=f"/problems/{code}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if instance is None else instance,
        code=code,
        correlation_id=current_correlation_id(),
        errors=[
            FieldProblem(field=e.field, message=e.message, code=e.code) for e in errors[:MAX_REPORTED_ERRORS]
        ],
        omitted_errors=omitted_errors or None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def field_errors_from_pydantic(errors: list[Any]) -> list[FieldError]:
    """Translate pydantic error dicts into field errors with dotted paths (no `body.` prefix)."""
    result = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header"} and len(loc) > 1:
            loc = loc[1:] if loc[0] == "body" else loc
        message = str(err.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        result.append(FieldError(".".join(loc) or "body", message, str(err.get("type", "invalid"))))
    return result


_METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")
_TEMPLATED = re.compile(r"\\\{[^/]+?\\\}")


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives the request's path, for a 405's `Allow` header.

    FastAPI makes one route per method, and Starlette's 405 names only the first route whose
    path matched; the header must list them all (RFC 9110 §15.5.6). As in OpenAPI, a concrete
    path (`/subscriptions/term-ends`) is its own resource, apart from a templated one that also
    matches it (`/subscriptions/{subscription_id}`).
    """
    path = request.url.path
    matching = [
        (template.count("{"), item)
        for template, item in request.app.openapi().get("paths", {}).items()
        if re.fullmatch(_TEMPLATED.sub("[^/]+", re.escape(template)), path)
    ]
    if not matching:
        return []
    _, item = min(matching, key=lambda found: found[0])
    return [method.upper() for method in _METHODS if method in item]


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        return problem_response(
            request,
            status=exc.status,
            title=exc.title,
            code=exc.code,
            detail=exc.detail,
            errors=errors,
        )

    async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
        # A request body FastAPI could not parse, or a model a handler built from bad input.
        assert isinstance(exc, RequestValidationError | ValidationError)
        found = list(exc.errors())
        detail = "The request has invalid fields"
        if len(found) > MAX_REPORTED_ERRORS:
            detail += f" ({len(found)} errors; the first {MAX_REPORTED_ERRORS} are listed)"
        return problem_response(
            request,
            status=422,
            title="Validation failed",
            code="validation_failed",
            detail=detail,
            # Translating only what is reported keeps a body with many bad fields cheap to refuse.
            errors=field_errors_from_pydantic(found[:MAX_REPORTED_ERRORS]),
            omitted_errors=max(0, len(found) - MAX_REPORTED_ERRORS),
        )

    app.add_exception_handler(RequestValidationError, _invalid_input)
    app.add_exception_handler(ValidationError, _invalid_input)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not found",
            405: "Method not allowed",
            413: "Content too large",
        }
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and (documented := allowed_methods(request)):
            # Routes left out of the document (the docs pages) keep Starlette's header.
            headers = {**(headers or {}), "Allow": ", ".join(documented)}
        return problem_response(
            request,
            status=exc.status_code,
            title=titles.get(exc.status_code, "Error"),
            code=titles.get(exc.status_code, "error").lower().replace(" ", "_"),
            detail=str(exc.detail),
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.unhandled_error", path=request.url.path)
        return problem_response(
            request,
            status=500,
            title="Internal error",
            code="internal_error",
            detail="An unexpected error occurred; it has been logged with the correlation id.",
        )


class NulInUrlGuard:
    """Refuses a URL whose path or query holds a NUL character (`%00`) with a 422 problem.

    No text column of PostgreSQL can hold NUL, so such an id or filter would otherwise fail in
    the database as a 500. Bodies are checked by their models; the URL is checked here, once,
    before any route, idempotency record or audit entry sees it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            errors = self._nul_fields(scope)
            if errors:
                request = Request(scope, receive)
                response = problem_response(
                    request,
                    status=422,
                    title="Validation failed",
                    code="validation_failed",
                    detail="The request URL has a NUL character, which no id or filter may hold",
                    errors=errors,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _nul_fields(scope: Scope) -> list[FieldError]:
        errors = []
        if "\x00" in scope.get("path", ""):
            errors.append(FieldError("path", "must not contain a NUL character", "nul_character"))
        query = scope.get("query_string", b"").decode("latin-1")
        if "%00" in query or "\x00" in query:
            for name, value in parse_qsl(query, keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    field = "query." + name.replace("\x00", "")
                    errors.append(FieldError(field, "must not contain a NUL character", "nul_character"))
        return errors
