"""Tax-rate requests for API tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.services import auth

FINANCE = auth("finance")


def tax_rate_body(**fields: Any) -> dict[str, Any]:
    """A rate request: GB VAT 20 % on every code from 2026-01-01 unless told otherwise."""
    body: dict[str, Any] = {"country": "GB", "rate": "20", "name": "VAT", "effective_from": "2026-01-01"}
    body.update(fields)
    return {name: value for name, value in body.items() if value is not None}


async def create_tax_rate(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A rate published through the API; returns its view."""
    response = await client.post("/v1/tax-rates", json=tax_rate_body(**fields), headers=FINANCE)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
