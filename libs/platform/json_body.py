"""Request bodies never read a JSON number as a nearby value.

FastAPI reads a JSON body with `json.loads`, which turns `0.99999999999999999` into the float
1.0: a validator then cannot tell it from the integer 1. Every service route reads its body
with `parse_float=exact_float` instead: a number with a fraction or an exponent becomes its
float only when the float is that number exactly (`3.0`, `2.5`, `1e3`), and NaN otherwise,
which no field accepts. No field of the API takes a fractional JSON number anyway (money,
prices and percents are strings; a quantity is a string or an integer, `3.0` counting as 3 as
JSON Schema says), so refusing the inexact ones loses nothing. The value stays a plain float,
never an object: FastAPI validates bodies with `from_attributes`, where any non-builtin object
(a Decimal, say) would pass as a model whose fields all default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute


def exact_float(text: str) -> float:
    """The float of a JSON number's text when it is that number exactly, else NaN."""
    number = float(text)
    return number if math.isfinite(number) and Decimal(number) == Decimal(text) else math.nan


def loads_exact(body: bytes | str) -> Any:
    """Parse JSON text; a number no float holds exactly becomes NaN (refused by every field)."""
    return json.loads(body, parse_float=exact_float)


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
