"""What operations sees on every service process: liveness, readiness, docs and metrics."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import SERVICES, Stack


@pytest.mark.parametrize("service", SERVICES)
async def test_service_answers_health_readiness_docs_and_metrics(stack: Stack, service: str) -> None:
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=10) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "service": service}

        ready = await client.get("/readyz")
        assert ready.status_code == 200
        # Each consumer group of the service is a dependency of its own (running, not failed).
        groups = {
            "provisioning": ["provisioning.collections", "provisioning.overage"],
            "rating": ["rating.usage", "rating.read_model", "rating.balances", "rating.support"],
            "invoicing": ["invoicing.read_model", "invoicing.bill_runs", "invoicing.ledger"],
            "overage": ["overage.read_model", "overage.payables_read_model", "overage.case_workflow"],
        }.get(service, [])
        consumers = {f"consumer:{group}": "ok" for group in groups}
        assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", **consumers}}

        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
        # Swagger UI is served by the service itself: no CDN, so /docs works without internet.
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
        assert assets, docs.text
        assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
        assert any(a.endswith("swagger-ui.css") for a in assets), assets
        for asset in assets:
            loaded = await client.get(asset)
            assert loaded.status_code == 200, asset
            assert loaded.content, asset
        assert "/openapi.json" in docs.text
        schema = await client.get("/openapi.json")
        assert schema.status_code == 200
        assert schema.json()["paths"]

        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        # The requests just made are counted, labelled with this service.
        counted = [
            line
            for line in metrics.text.splitlines()
            if line.startswith("http_requests_total{") and 'route="/healthz"' in line
        ]
        assert len(counted) == 1, metrics.text
        assert f'service="{service}"' in counted[0]
        assert 'status="200"' in counted[0]
