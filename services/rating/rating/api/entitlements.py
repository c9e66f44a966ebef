"""`POST /v1/entitlements/check`: may this subscription use this much of a meter now, and at what cost.

The check is a hot route (libs/platform/hot_routes.py): a well-formed request with a key whose
role the route admits is answered by `answer_check` straight from the ASGI layer; everything
else (no key, a role not admitted, a bad body, an idempotency key, ...) comes to the endpoint
below through the full stack, which answers or refuses it as every route does. Both ways the
answer is `answer_check`'s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from libs.platform.auth import Principal
from libs.platform.edge import edge_body
from libs.platform.hot_routes import hot_json
from rating.api.deps import UsageCaller, runtime_from
from rating.bootstrap import RatingRuntime
from rating.handlers import entitlements as handlers
from rating.schemas.entitlements import EntitlementCheckPublic, EntitlementCheckRequest, entitlement_json

router = APIRouter(prefix="/v1/entitlements", tags=["entitlements"])

CHECK_MAX_BODY_BYTES = 4096
"""A check is a subscription id, a meter code and a quantity: a few hundred bytes at most."""


async def answer_check(runtime: Any, caller: Principal, body: EntitlementCheckRequest) -> bytes:
    """The JSON answer to one check, in a read-only unit of work acting for `caller`."""
    assert isinstance(runtime, RatingRuntime)
    async with runtime.rating_read_unit_of_work(caller) as uow:
        answer = await handlers.check_entitlement(
            uow=uow, subscription_id=body.subscription_id, meter=body.meter, quantity=body.quantity
        )
    # The answer's bytes are built directly: FastAPI would validate the returned model once more.
    return entitlement_json(answer)


@router.post(
    "/check",
    response_model=EntitlementCheckPublic,
    summary="Check an entitlement: allowed, included and prepaid left, and the cost of the quantity",
    max_body_size=CHECK_MAX_BODY_BYTES,
)
@edge_body(json_members=None)  # 4 KiB of JSON is validated in bounded time: no second parse to count
@hot_json(answer_check)
async def check_entitlement(body: EntitlementCheckRequest, request: Request, caller: UsageCaller) -> Response:
    return Response(await answer_check(runtime_from(request), caller, body), media_type="application/json")
