"""`POST /v1/entitlements/check`: may this subscription use this much of a meter now, and at what cost."""

from __future__ import annotations

from fastapi import APIRouter, Response

from rating.api.deps import CheckUow
from rating.handlers import entitlements as handlers
from rating.schemas.entitlements import EntitlementCheckPublic, EntitlementCheckRequest, entitlement_json

router = APIRouter(prefix="/v1/entitlements", tags=["entitlements"])


@router.post(
    "/check",
    response_model=EntitlementCheckPublic,
    summary="Check an entitlement: allowed, included and prepaid left, and the cost of the quantity",
)
async def check_entitlement(body: EntitlementCheckRequest, uow: CheckUow) -> Response:
    answer = await handlers.check_entitlement(
        uow=uow, subscription_id=body.subscription_id, meter=body.meter, quantity=body.quantity
    )
    # The answer's bytes are built directly: FastAPI would validate the returned model once more.
    return Response(entitlement_json(answer), media_type="application/json")
