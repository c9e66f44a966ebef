"""Request bodies read with their numbers exactly as written.

FastAPI reads a JSON body with `json.loads`, which turns `0.99999999999999999` into the float
1.0: a validator then cannot tell it from the integer 1. Every service route reads its body
with `parse_float=JsonNumber` instead, so a number with a fraction or an exponent reaches
validation as the exact decimal its text says (`libs.contracts.types` decides what each wire
type makes of it: a quantity takes it only when its value is an integer, money never).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from libs.contracts.types import JsonNumber


def loads_exact(body: bytes | str) -> Any:
    """Parse JSON text; numbers with a fraction or exponent become exact `JsonNumber`s."""
    return json.loads(body, parse_float=JsonNumber)


class ExactJsonRequest(Request):
    """A request whose `json()` keeps every number exactly as written."""

    async def json(self) -> Any:
        """The body parsed by `loads_exact` (once; cached like Starlette's own)."""
        if not hasattr(self, "_json"):
            self._json = loads_exact(await self.body())
        return self._json


class ExactJsonRoute(APIRoute):
    """An API route that hands its handler an `ExactJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, called with the request re-read as an `ExactJsonRequest`."""
        handler = super().get_route_handler()

        async def exact_json_handler(request: Request) -> Response:
            return await handler(ExactJsonRequest(request.scope, request.receive))

        return exact_json_handler


def read_bodies_exactly(router: APIRouter) -> APIRouter:
    """Make every API route of `router` an `ExactJsonRoute`; call before including it.

    FastAPI builds an included route's handler from the original route's `get_route_handler`
    and offers no request-class setting, so the services' routers are converted here, in one
    place, rather than each router remembering a `route_class`.
    """
    router.route_class = ExactJsonRoute
    for route in router.routes:
        if type(route) is APIRoute:
            # Same fields, only the handler factory differs: no state to convert.
            route.__class__ = ExactJsonRoute
    return router
