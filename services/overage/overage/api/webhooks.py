"""`POST /v1/webhooks/vendors/{vendor}/overage`: the vendor's signed overage notice (no API key).

A refused call is recorded (`GET /v1/webhook-rejections`): a bad or stale signature in the
handler, an oversized body (413, refused at the edge before the route) by `RejectionRecorder`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.platform.edge import edge_body
from libs.platform.logging import get_logger
from overage.api.deps import id_path, runtime_from
from overage.domain.signatures import Refusal
from overage.handlers import webhook_calls as handlers
from overage.handlers.webhook_calls import WebhookCall
from overage.schemas.notices import WEBHOOK_MAX_BODY_BYTES, NoticeReceipt, OverageNoticeBody

router = APIRouter(tags=["webhooks"])
WEBHOOK_PATH = "/v1/webhooks/vendors/{vendor_id}/overage"
_PREFIX, _SUFFIX = "/v1/webhooks/vendors/", "/overage"
log = get_logger("overage.webhooks")

_SIGNATURE_DOC = (
    '`X-Signature: sha256=<hex HMAC-SHA256 of "{X-Signature-Timestamp}.{raw body}">` under one of the '
    "vendor's valid secrets; `X-Signature-Timestamp` in unix seconds within 5 minutes of our clock."
)


@router.post(
    WEBHOOK_PATH,
    status_code=202,
    response_model=NoticeReceipt,
    summary="Receive a vendor's overage notice (signed)",
    description="Authenticated by its signature, not an API key: " + _SIGNATURE_DOC + " A 202 means the "
    "notice is stored (it survives any crash) and will be worked; the same `notice_id` again is a 200 "
    "`duplicate` that changes nothing. Refused: 401 (signature, timestamp or vendor), 413 (over 64 KiB), "
    "422 (malformed) — each recorded. A notice of a tenant not mapped yet waits in the review queue.",
    max_body_size=WEBHOOK_MAX_BODY_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": OverageNoticeBody.model_json_schema()}},
        }
    },
    responses={
        200: {"description": "The same notice again: acknowledged, nothing changed.", "model": NoticeReceipt}
    },
)
@edge_body(json_members=200)
async def receive_overage_notice(
    vendor_id: Annotated[str, id_path("Vendor id (ven_…).")],
    request: Request,
    response: Response,
    x_signature_timestamp: Annotated[str | None, Header(max_length=20)] = None,
    x_signature: Annotated[str | None, Header(max_length=100)] = None,
) -> NoticeReceipt:
    call = WebhookCall(vendor_id, x_signature_timestamp, x_signature, await request.body())
    outcome = await runtime_from(request).webhook_intake.append(call)
    receipt = outcome.raise_refusal()
    if receipt.status == "duplicate":
        response.status_code = 200
    return receipt


class RejectionRecorder:
    """Records a webhook call the edge refused for its size (413) — the route never saw it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not (path.startswith(_PREFIX) and path.endswith(_SUFFIX))
        ):
            await self.app(scope, receive, send)
            return
        status: dict[str, int] = {}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
        if status.get("code") == 413:
            await _record_too_large(scope, path[len(_PREFIX) : -len(_SUFFIX)])


async def _record_too_large(scope: Scope, vendor: str) -> None:
    app: Any = scope.get("app")
    try:
        runtime = app.state.runtime
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        size = int(declared) if declared.isdigit() else 0
        async with runtime.overage_unit_of_work(None) as uow:
            await handlers.record_rejection(
                uow=uow,
                vendor=vendor,
                reason=Refusal.BODY_TOO_LARGE,
                status=413,
                body=b"",
                body_size=size,
                detail=f"body over {WEBHOOK_MAX_BODY_BYTES} bytes (declared {size})",
                refusals=runtime.rejection_policy,
            )
    except Exception as exc:  # recording must never turn a 413 into a 500
        log.warning("overage.rejection_not_recorded", error=str(exc)[:200])
