"""The whole stack as `make run` starts it: a local broker and the five services as processes.

Everything runs on free loopback ports with SQLite files in a temporary directory, so it never
collides with a running `make run`. Processes start once per session; their output goes to
files (a pipe nobody reads would fill up and block a chatty service).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from libs.platform.broker import LocalBroker, free_port
from libs.platform.settings import Role
from tests.support.services import (
    API_KEYS,
    API_KEYS_SETTING,
    GROUP_REBALANCE_TIMEOUT_MS,
    GROUP_SESSION_TIMEOUT_MS,
)

SERVICES = ("catalog", "provisioning", "rating", "invoicing", "overage")
REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0
LOG_TAIL_LINES = 200


@dataclass
class ServiceProcess:
    """One service started with `python -m <name>`, and where its output goes."""

    name: str
    port: int
    database: Path
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL of the service's API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        """The service's own SQLite file."""
        return f"sqlite+aiosqlite:///{self.database}"

    def start(self, env: dict[str, str]) -> None:
        """Spawn the process with its port and database on top of the shared environment."""
        own = {**env, "PORT": str(self.port), "DATABASE_URL": self.database_url}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.name],
                cwd=REPO_ROOT,
                env=own,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def exited(self) -> int | None:
        """The exit code if the process is gone, else None."""
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        """Terminate (uvicorn shuts down gracefully on SIGTERM), kill if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the process wrote."""
        if not self.log.exists():
            return "(no output)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    """The running broker and services."""

    bootstrap_servers: str
    services: dict[str, ServiceProcess]

    def url(self, name: str) -> str:
        """Base URL of one service."""
        return self.services[name].url


def _environment(bootstrap_servers: str, catalog_port: int) -> dict[str, str]:
    """What every service is started with, as `make run` would (but on our ports and keys)."""
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing from a developer's shell may point the stack elsewhere.
        if not key.startswith(("API_KEYS", "KAFKA_", "DATABASE_", "CATALOG_", "CONSUMER_"))
        and key not in {"PORT", "HOST", "ENVIRONMENT"}
    }
    env.update(
        {
            "HOST": "127.0.0.1",
            "ENVIRONMENT": "test",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "API_KEYS": API_KEYS_SETTING,
            "CATALOG_URL": f"http://127.0.0.1:{catalog_port}",
            "CATALOG_API_KEY": API_KEYS[Role.CRM],
            "CONSUMER_REBALANCE_TIMEOUT_MS": str(GROUP_REBALANCE_TIMEOUT_MS),
            "CONSUMER_SESSION_TIMEOUT_MS": str(GROUP_SESSION_TIMEOUT_MS),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _new_port(taken: set[int]) -> int:
    """A free loopback port none of our processes was given yet."""
    while (port := free_port()) in taken:
        pass
    taken.add(port)
    return port


def _start_all(stack: Stack, timeout_s: float = START_TIMEOUT_S) -> None:
    """Start every service and poll each `/readyz` until all answer 200, with a deadline.

    A free port can be taken by someone else between our probe and the service's bind (other
    test runs share the machine): a service that exits for that reason gets another port. The
    catalog's port is part of provisioning's configuration, so a moved catalog restarts it too.
    """
    broker_port = int(stack.bootstrap_servers.rpartition(":")[2])
    taken = {broker_port, *(s.port for s in stack.services.values())}

    def start(service: ServiceProcess) -> None:
        service.start(_environment(stack.bootstrap_servers, stack.services["catalog"].port))

    for service in stack.services.values():
        start(service)
    deadline = time.monotonic() + timeout_s
    waiting = list(stack.services.values())
    moves = 0
    last: dict[str, str] = {}
    with httpx.Client(timeout=2.0) as client:
        while waiting:
            for service in list(waiting):
                code = service.exited()
                if code is not None:
                    if "address already in use" not in service.log_tail().lower() or moves >= 3:
                        raise RuntimeError(
                            f"{service.name} exited with {code} while starting:\n{service.log_tail()}"
                        )
                    moves += 1
                    service.port = _new_port(taken)
                    restart = [service]
                    if service.name == "catalog":
                        stack.services["provisioning"].stop()
                        restart.append(stack.services["provisioning"])
                    for again in restart:
                        start(again)
                        if again not in waiting:
                            waiting.append(again)
                    continue
                try:
                    response = client.get(f"{service.url}/readyz")
                    last[service.name] = f"{response.status_code} {response.text}"
                    if response.status_code == 200:
                        waiting.remove(service)
                except httpx.TransportError as exc:
                    last[service.name] = f"{type(exc).__name__}: {exc}"
            if not waiting:
                return
            if time.monotonic() > deadline:
                logs = "\n\n".join(f"--- {s.name} ---\n{s.log_tail()}" for s in waiting)
                raise TimeoutError(
                    f"not ready within {timeout_s}s: { {s.name: last.get(s.name) for s in waiting} }\n{logs}"
                )
            time.sleep(0.1)


def _report_logs(request: pytest.FixtureRequest, services: dict[str, ServiceProcess]) -> None:
    """Show each service's output on the terminal (past pytest's capture) after a failure."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    text = "\n".join(
        f"\n===== {s.name} ({s.url}) output, last {LOG_TAIL_LINES} lines, {s.log} =====\n{s.log_tail()}"
        for s in services.values()
    )
    if capture is None:
        print(text, file=sys.stderr)
        return
    with capture.global_and_fixture_disabled():
        print(text, file=sys.stderr)


@pytest.fixture(scope="package")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A local broker and all five services as processes, ready (database and broker ok); stopped
    after the last end-to-end test (all run on one xdist worker: tests/conftest.py), not left
    running while the worker goes on with other tests."""
    workdir = tmp_path_factory.mktemp("e2e")
    broker = LocalBroker(port=free_port()).start()
    taken = {broker.port}
    services = {
        name: ServiceProcess(name, _new_port(taken), workdir / f"{name}.db", workdir / f"{name}.log")
        for name in SERVICES
    }
    stack = Stack(broker.bootstrap_servers, services)
    failed_before = request.session.testsfailed
    ready = False
    try:
        _start_all(stack)
        ready = True
        yield stack
    finally:
        for service in services.values():
            service.stop()
        broker.stop()
        if not ready or request.session.testsfailed > failed_before:
            _report_logs(request, services)


@pytest.fixture
async def catalog(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the catalog process."""
    async with httpx.AsyncClient(base_url=stack.url("catalog"), timeout=15) as client:
        yield client


@pytest.fixture
async def provisioning(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the provisioning process."""
    async with httpx.AsyncClient(base_url=stack.url("provisioning"), timeout=15) as client:
        yield client


@pytest.fixture
async def rating(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the rating process."""
    async with httpx.AsyncClient(base_url=stack.url("rating"), timeout=30) as client:
        yield client


@pytest.fixture
async def invoicing(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the invoicing process."""
    async with httpx.AsyncClient(base_url=stack.url("invoicing"), timeout=30) as client:
        yield client


@pytest.fixture
async def overage(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the overage process."""
    async with httpx.AsyncClient(base_url=stack.url("overage"), timeout=30) as client:
        yield client
