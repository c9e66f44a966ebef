"""The runtime every service shares and the factory of its FastAPI app.

`ServiceRuntime` owns the database, the outbox relay and the consumers; each service's
`bootstrap.py` builds one (real adapters, or fakes in unit tests) and `create_service_app`
wraps it with auth, errors, idempotency, logging, metrics, health and local Swagger UI.

Each consumer runs under a supervisor: if its loop ends with an error, `/readyz` reports the
consumer as failed and the supervisor restarts it with a new Kafka consumer after a doubling
back-off (log line `consumer.restarted`).

A service's periodic jobs (`PeriodicJob`: a period close, an expiry sweep) run in the process
too, bus or no bus: each every `interval_s` after the previous run ended, never two runs of one
job at once; a run that fails is logged and the job goes on at its next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import swagger_ui_bundle
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url

from libs.contracts.envelope import Envelope
from libs.contracts.topics import ALL_TOPICS
from libs.platform.audit import audit_router
from libs.platform.auth import Principal
from libs.platform.broker import KafkaPublisher, ensure_topics
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.db import Database
from libs.platform.edge import EdgeGuard, public_paths
from libs.platform.group_commit import GroupCommit
from libs.platform.hot_routes import HotRoutes, hot_routes_of
from libs.platform.idempotency import IdempotencyMiddleware
from libs.platform.inbox import EventHandler, IdempotentConsumer
from libs.platform.json_body import read_bodies_exactly
from libs.platform.logging import configure_logging, get_logger
from libs.platform.memory import limit_malloc_arenas, settle_collector
from libs.platform.migrations import upgrade_async
from libs.platform.observability import RequestContextMiddleware, ServiceMetrics, health_router
from libs.platform.outbox import OutboxRelay
from libs.platform.problems import PROBLEM_RESPONSES, NulInUrlGuard, install_problem_handlers
from libs.platform.settings import ServiceSettings
from libs.platform.stall_watch import StallWatch
from libs.platform.unit_of_work import SYSTEM_ACTOR, UnitOfWork
from libs.platform.write_turns import WriteTurns

log = get_logger("service")


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of this service: what it reads and which handler applies each type."""

    group_id: str
    topics: Sequence[str]
    handlers: Mapping[str, EventHandler]
    write_turn: Callable[[], contextlib.AbstractAsyncContextManager[Any]] | None = None
    """A turn each poll's transaction waits for before it starts (none by default): on SQLite a
    service queues its hot writers on it, REST and consumer alike, instead of in SQLite's busy
    handler (`libs.platform.write_turns`: rating's usage batches, invoicing's bill-run chunks)."""
    prepare: Callable[[Sequence[Envelope]], Awaitable[object]] | None = None
    """Work on a poll's events that only reads, done before its write turn (none by default):
    on a read-only session that on SQLite reads beside the writer, so that the turn holds the
    write lock only for what must be consistent with the writes. What it leaves for the handlers
    (invoicing's prepared bill-run chunks) they must check again inside their transaction; a
    preparation that raises is logged and leaves its work to the handlers."""


@dataclass(frozen=True)
class PeriodicJob:
    """Work a service does on a timer: `run` every `interval_s` seconds (0 or less: never).

    The first run comes one interval after start-up (`first_run_after_s` to say otherwise), so
    a process that restarts in a loop does not hammer its database.
    """

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]
    first_run_after_s: float | None = None


@dataclass
class ServiceRuntime:
    """Database, relay, consumers and periodic jobs of one service process."""

    settings: ServiceSettings
    migrations_dir: Path
    consumer_specs: Sequence[ConsumerSpec] = ()
    periodic_jobs: Sequence[PeriodicJob] = ()
    job_runs: dict[str, int] = field(default_factory=dict)
    """Completed runs of each periodic job (successful or not), for tests and operators."""
    clock: Clock = SYSTEM_CLOCK  # "now" of every unit of work (tests fix it)
    db: Database = field(init=False)
    publisher: KafkaPublisher | None = None
    relay: OutboxRelay | None = None
    consumers: list[IdempotentConsumer] = field(default_factory=list)
    consumer_restarts: dict[str, int] = field(default_factory=dict)
    group_commits: Sequence[GroupCommit[Any, Any]] = ()
    """The service's group commits (libs/platform/group_commit.py): drained and closed on stop,
    counted in `/metrics`."""
    stall_watch: StallWatch | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _supervisors: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _write_turns: dict[str, WriteTurns] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.db = Database(
            self.settings.resolved_database_url(),
            sqlite_heap_limit=self.settings.sqlite_heap_limit_mib * 2**20,
        )

    def write_turn(self, name: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """Wait for this process's turn to write as one of the writers `name` (rating's usage
        batches, invoicing's bill-run chunks): on SQLite one at a time, behind the writers of that
        name of the other processes on the same file (`libs.platform.write_turns`); on a database
        with concurrent writers, at once."""
        if self.db.dialect != "sqlite":
            return contextlib.nullcontext()
        turns = self._write_turns.get(name)
        if turns is None:
            turns = self._write_turns[name] = WriteTurns(make_url(self.db.url).database, name=name)
        return turns.turn()

    def unit_of_work(self, principal: Principal | None = None) -> UnitOfWork:
        """A new unit of work acting for `principal` (or the system)."""
        return UnitOfWork(
            self.db,
            producer=self.settings.service_name,
            actor=principal.actor if principal else SYSTEM_ACTOR,
            on_commit=self.relay.wakeup.set if self.relay else None,
            clock=self.clock,
        )

    async def start(self) -> None:
        """Migrate, start the periodic jobs, then the relay and the consumers (unless the bus is disabled)."""
        if self.settings.migrate_on_start:
            await upgrade_async(self.migrations_dir, self.db.url)
        self._stop = asyncio.Event()
        if self.settings.loop_stall_log_ms > 0:
            self.stall_watch = StallWatch(self.settings.loop_stall_log_ms / 1000)
            self.stall_watch.start()
        for job in self.periodic_jobs:
            if job.interval_s > 0:
                self._tasks.append(asyncio.create_task(self._run_periodically(job), name=f"job-{job.name}"))
        if not self.settings.bus_enabled:
            return
        bootstrap = self.settings.kafka_bootstrap_servers
        await self._ensure_topics_when_broker_is_up(bootstrap)
        self.publisher = KafkaPublisher(bootstrap, client_id=self.settings.service_name)
        await self.publisher.start()
        self.relay = OutboxRelay(
            self.db,
            self.publisher,
            batch_size=self.settings.relay_batch_size,
            poll_interval_s=self.settings.relay_poll_interval_s,
            retention=timedelta(hours=self.settings.outbox_retention_hours),
        )
        self._tasks.append(asyncio.create_task(self.relay.run(self._stop), name="outbox-relay"))
        consumers = [
            IdempotentConsumer(
                self.db,
                group_id=spec.group_id,
                topics=spec.topics,
                handlers=spec.handlers,
                bootstrap_servers=bootstrap,
                batch_size=self.settings.consumer_batch_size,
                fetch_max_bytes=self.settings.consumer_fetch_max_kib * 1024,
                session_timeout_ms=self.settings.consumer_session_timeout_ms,
                rebalance_timeout_ms=self.settings.consumer_rebalance_timeout_ms,
                max_attempts=self.settings.consumer_max_attempts,
                retry_backoff_s=self.settings.consumer_retry_backoff_s,
                write_turn=spec.write_turn,
                prepare=spec.prepare,
            )
            for spec in self.consumer_specs
        ]
        # The groups join at once: a join waits out the broker's rebalance delay (seconds), and
        # one after another a service with four groups took four times that to start.
        joined = await asyncio.gather(*(c.start() for c in consumers), return_exceptions=True)
        self.consumers.extend(consumers)  # stop() leaves the groups joined so far
        failure = next((outcome for outcome in joined if isinstance(outcome, BaseException)), None)
        if failure is not None:
            raise failure
        for consumer in consumers:
            task = asyncio.create_task(self._supervise(consumer), name=f"consumer-{consumer.group_id}")
            self._tasks.append(task)
            self._supervisors[consumer.group_id] = task

    async def _run_periodically(self, job: PeriodicJob) -> None:
        """Run `job` every interval until stop; a failed run is logged, the next one comes anyway."""
        wait = job.interval_s if job.first_run_after_s is None else job.first_run_after_s
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=max(wait, 0.0))
            if self._stop.is_set():
                return
            try:
                await job.run()
            except Exception as exc:
                log.exception("job.failed", job=job.name, error=str(exc))
            self.job_runs[job.name] = self.job_runs.get(job.name, 0) + 1
            wait = job.interval_s

    async def _supervise(self, consumer: IdempotentConsumer) -> None:
        """Run a consumer until stop; when its loop fails, restart it with a doubling back-off."""
        initial = backoff = self.settings.consumer_restart_backoff_s
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            try:
                await consumer.run(self._stop)
                return
            except Exception as exc:
                # Readiness shows only the kind of error (it is public); the log has the rest.
                consumer.failure = type(exc).__name__
                log.exception("consumer.failed", group=consumer.group_id, error=str(exc))
            if loop.time() - started > 60:  # it had been running well: a fresh failure
                backoff = initial
            with contextlib.suppress(Exception):
                await consumer.stop()
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 30.0)
                if self._stop.is_set():
                    return
                try:
                    await consumer.start()
                except Exception as exc:
                    consumer.failure = type(exc).__name__
                    log.warning("consumer.restart_failed", group=consumer.group_id, error=str(exc))
                    with contextlib.suppress(Exception):
                        await consumer.stop()
                    continue
                consumer.failure = None
                self.consumer_restarts[consumer.group_id] = (
                    self.consumer_restarts.get(consumer.group_id, 0) + 1
                )
                log.warning(
                    "consumer.restarted",
                    group=consumer.group_id,
                    restarts=self.consumer_restarts[consumer.group_id],
                )
                break

    async def _ensure_topics_when_broker_is_up(self, bootstrap: str) -> None:
        # Services may start before the broker (make run, compose): wait for it, bounded.
        deadline = asyncio.get_running_loop().time() + self.settings.broker_wait_s
        while True:
            try:
                await ensure_topics(
                    bootstrap,
                    ALL_TOPICS,
                    partitions=self.settings.kafka_topic_partitions,
                    replication_factor=self.settings.kafka_replication_factor,
                )
                return
            except Exception as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                log.info("service.waiting_for_broker", bootstrap=bootstrap, error=type(exc).__name__)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        """Write what the group commits hold, stop consumers and relay, flush the producer, close
        the database."""
        for group_commit in self.group_commits:
            with contextlib.suppress(Exception):
                await group_commit.close()
        self._stop.set()
        if self.stall_watch is not None:
            await self.stall_watch.stop()
            self.stall_watch = None
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()
        self._supervisors.clear()
        for consumer in self.consumers:
            with contextlib.suppress(Exception):
                await consumer.stop()
        self.consumers.clear()
        if self.publisher is not None:
            with contextlib.suppress(Exception):
                await self.publisher.stop()
            self.publisher = None
        await self.db.dispose()
        for turns in self._write_turns.values():
            turns.close()
        self._write_turns.clear()

    async def readiness(self) -> dict[str, str]:
        """`ok` or the error of each dependency."""
        checks: dict[str, str] = {}
        try:
            await self.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if self.settings.bus_enabled:
            try:
                assert self.publisher is not None, "producer not started"
                await self.publisher.ping()
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"error: {type(exc).__name__}"
            for consumer in self.consumers:
                supervisor = self._supervisors.get(consumer.group_id)
                checks[f"consumer:{consumer.group_id}"] = _consumer_state(consumer, supervisor)
        return checks


def _consumer_state(consumer: IdempotentConsumer, supervisor: asyncio.Task[None] | None) -> str:
    """`ok` while the consumer's loop runs (or is about to), else why not."""
    if consumer.failure is not None:
        return f"error: {consumer.failure}"
    if consumer.consumer is None or supervisor is None or supervisor.done():
        return "error: stopped"
    return "ok"


def _mount_local_docs(app: FastAPI, title: str) -> None:
    app.mount(
        "/static/swagger-ui",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} — API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )


def _operation_id(route: APIRoute) -> str:
    # The handler's name ("get_product"): stable, readable, and what OpenAPI links point at.
    return route.name


def create_service_app(
    *,
    runtime: ServiceRuntime,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_startup: Callable[[ServiceRuntime], Any] | None = None,
    extra_public_paths: Sequence[str] = (),
) -> FastAPI:
    """The FastAPI app of a service, with every cross-cutting concern wired the same way.

    `extra_public_paths` are routes that need no API key (a signed webhook, say).
    """
    settings = runtime.settings
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Before the database's connection threads start (`libs.platform.memory`).
        limit_malloc_arenas()
        await runtime.start()
        if on_startup is not None:
            result = on_startup(runtime)
            if asyncio.iscoroutine(result):
                await result
        settle_collector(settings.gc_young_threshold)  # libs.platform.memory
        log.info("service.started", service=settings.service_name, port=settings.port)
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=PROBLEM_RESPONSES,
        generate_unique_id_function=_operation_id,
    )
    app.state.runtime = runtime
    app.state.api_keys = settings.api_key_roles()
    app.state.metrics = ServiceMetrics(settings.service_name)
    app.state.public_paths = public_paths(
        metrics_public=settings.metrics_are_public(), extra=extra_public_paths
    )
    install_problem_handlers(app)
    # Outermost last: context → hot routes (their plain requests answered, libs/platform/hot_routes.py)
    # → NUL guard → edge (401 before the body, 413, JSON cap) → idempotency.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(EdgeGuard)
    app.add_middleware(NulInUrlGuard)
    app.add_middleware(HotRoutes)
    app.add_middleware(RequestContextMiddleware)
    _mount_local_docs(app, title)
    app.include_router(health_router())
    app.include_router(audit_router())
    for router in routers:
        app.include_router(read_bodies_exactly(router))
    hot_routes_of(app)  # a hot route the fast path cannot serve as declared fails here, not per request
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run a service's app with uvicorn on its host and port: uvloop's event loop and httptools'
    HTTP parser, named rather than left to uvicorn's "auto", so a missing extra fails at start
    instead of the service quietly running on the slower pure-Python ones; uvicorn's access
    line per request only when ACCESS_LOG says so (see `ServiceSettings.access_log`)."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        loop="uvloop",
        http="httptools",
        access_log=settings.access_log,
    )


def runtime_of(request: Request) -> ServiceRuntime:
    """The runtime of the app serving `request` (a FastAPI dependency)."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime
