"""`POST /v1/entitlements/check`: may this subscription use this much of a meter now, and at what cost."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from libs.platform.edge import edge_body
from rating.api.deps import UsageCaller, runtime_from
from rating.handlers import entitlements as handlers
from rating.schemas.entitlements import EntitlementCheckPublic, EntitlementCheckRequest, entitlement_json

router = APIRouter(prefix="/v1/entitlements", tags=["entitlements"])

CHECK_MAX_BODY_BYTES = 4096
"""A check is a subscription id, a meter code and a quantity: a few hundred bytes at most."""


@router.post(
    "/check",
    response_model=EntitlementCheckPublic,
    summary="Check an entitlement: allowed, included and prepaid left, and the cost of the quantity",
    max_body_size=CHECK_MAX_BODY_BYTES,
)
@edge_body(json_members=None)  # 4 KiB of JSON is validated in bounded time: no second parse to count
async def check_entitlement(body: EntitlementCheckRequest, request: Request, caller: UsageCaller) -> Response:
    # The read-only unit of work is opened here rather than by a generator dependency (FastAPI's
    # generator machinery cost about a tenth of a millisecond a check).
    async with runtime_from(request).rating_read_unit_of_work(caller) as uow:
        answer = await handlers.check_entitlement(
            uow=uow, subscription_id=body.subscription_id, meter=body.meter, quantity=body.quantity
        )
    # The answer's bytes are built directly: FastAPI would validate the returned model once more.
    return Response(entitlement_json(answer), media_type="application/json")
