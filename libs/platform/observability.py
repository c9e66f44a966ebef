"""Health, readiness and Prometheus metrics, the same on every service (DESIGN §6)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.platform.auth import metrics_access
from libs.platform.card_numbers import holds_card_number
from libs.platform.dead_letters import count_pending
from libs.platform.logging import (
    CORRELATION_HEADER,
    new_correlation_id,
    reset_correlation_id,
    set_correlation_id,
)
from libs.platform.outbox import count_parked


class ServiceMetrics:
    """A registry of its own per app, so several apps can live in one test process."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self.outbox_published = Gauge(
            "outbox_published_total",
            "Events published by the relay",
            ["service"],
            registry=self.registry,
        )
        self.events_applied = Gauge(
            "consumer_events_applied_total",
            "Events applied by consumers",
            ["service"],
            registry=self.registry,
        )
        self.duplicates_skipped = Gauge(
            "consumer_duplicates_skipped_total",
            "Redelivered events skipped by the inbox",
            ["service"],
            registry=self.registry,
        )
        self.events_parked = Gauge(
            "consumer_events_parked_total",
            "Events consumers parked as dead letters",
            ["service"],
            registry=self.registry,
        )
        self.event_retries = Gauge(
            "consumer_event_retries_total",
            "Failed events whose partition consumers stopped for another attempt",
            ["service"],
            registry=self.registry,
        )
        self.dead_letters_pending = Gauge(
            "consumer_dead_letters_pending",
            "Dead letters not replayed yet",
            ["service"],
            registry=self.registry,
        )
        self.outbox_parked = Gauge(
            "outbox_parked",
            "Outbox events the broker refused for good, waiting for `make republish PARKED=1`",
            ["service"],
            registry=self.registry,
        )
        self.consumer_restarts = Gauge(
            "consumer_restarts_total",
            "Consumers restarted after their loop failed",
            ["service"],
            registry=self.registry,
        )
        self.group_commit_entries = Gauge(
            "group_commit_entries_total",
            "Entries written by a group commit",
            ["service", "name"],
            registry=self.registry,
        )
        self.group_commit_groups = Gauge(
            "group_commit_groups_total",
            "Transactions (groups) of a group commit",
            ["service", "name"],
            registry=self.registry,
        )
        self.group_commit_seconds = Gauge(
            "group_commit_write_seconds_total",
            "Time a group commit's writer spent writing and committing groups",
            ["service", "name"],
            registry=self.registry,
        )
        self.group_commit_failed_groups = Gauge(
            "group_commit_failed_groups_total",
            "Groups whose transaction failed (their entries written again one by one)",
            ["service", "name"],
            registry=self.registry,
        )
        self.service = service


class RequestContextMiddleware:
    """Carries the correlation id from the request header into logs and events, and back out;
    counts requests and their latency by route template.

    Pure ASGI (not `BaseHTTPMiddleware`): no task group and no re-streamed body per request —
    that cost a few milliseconds on every request, more than an entitlement check itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _correlation_id(scope)
        header = (CORRELATION_HEADER.lower().encode("latin-1"), correlation_id.encode("latin-1"))
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                name = header[0]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != name]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        token = set_correlation_id(correlation_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_context)
        finally:
            reset_correlation_id(token)
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            metrics: ServiceMetrics = scope["app"].state.metrics
            method = scope["method"]
            metrics.requests.labels(metrics.service, method, template, str(status)).inc()
            metrics.latency.labels(metrics.service, method, template).observe(time.perf_counter() - started)


def _correlation_id(scope: Scope) -> str:
    """The request's correlation id (its header, else a new one), at most 64 characters."""
    wanted = CORRELATION_HEADER.lower().encode("latin-1")
    given = next((v for k, v in scope.get("headers", ()) if k.lower() == wanted), b"").decode("latin-1")
    if not given or holds_card_number(given):
        # A card number: the edge refuses the request; its answer and log lines must not carry it.
        return new_correlation_id()[:64]
    return given[:64]


def health_router() -> APIRouter:
    """`/healthz` (the process is up), `/readyz` (database and broker answer), `/metrics`."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok", "service": request.app.state.runtime.settings.service_name}

    @router.get(
        "/readyz",
        summary="Readiness: database and broker",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz(request: Request) -> Any:
        checks = await request.app.state.runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    # Open only where METRICS_PUBLIC allows (default: not in production); else ops and admin.
    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        dependencies=[Depends(metrics_access)],
    )
    async def metrics(request: Request) -> Response:
        runtime = request.app.state.runtime
        m: ServiceMetrics = request.app.state.metrics
        if runtime.relay is not None:
            m.outbox_published.labels(m.service).set(runtime.relay.published_total)
        m.events_applied.labels(m.service).set(sum(c.applied_total for c in runtime.consumers))
        m.duplicates_skipped.labels(m.service).set(sum(c.skipped_duplicates for c in runtime.consumers))
        m.events_parked.labels(m.service).set(sum(c.parked_total for c in runtime.consumers))
        m.event_retries.labels(m.service).set(sum(c.retries_total for c in runtime.consumers))
        m.consumer_restarts.labels(m.service).set(sum(runtime.consumer_restarts.values()))
        for group_commit in runtime.group_commits:
            stats = group_commit.stats
            m.group_commit_entries.labels(m.service, group_commit.name).set(stats.entries)
            m.group_commit_groups.labels(m.service, group_commit.name).set(stats.groups)
            m.group_commit_seconds.labels(m.service, group_commit.name).set(stats.write_seconds)
            m.group_commit_failed_groups.labels(m.service, group_commit.name).set(stats.failed_groups)
        with contextlib.suppress(Exception):  # metrics still answer while the database is down
            m.dead_letters_pending.labels(m.service).set(await count_pending(runtime.db))
            m.outbox_parked.labels(m.service).set(await count_parked(runtime.db))
        return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)

    return router
