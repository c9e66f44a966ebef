"""`python -m rating.cli load-usage FILE` against rating running in-process (SQLite): the upload is
streamed, the load's progress is shown (a line redrawn in place on a terminal, plain lines
elsewhere) until it is done, then what became of the rows; the exit status says how it ended."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from libs.platform.clock import FixedClock
from rating.app import create_app
from rating.bootstrap import RatingRuntime
from rating.cli_usage_loads import load_usage_file
from rating.handlers.usage_loads import load_pending_files
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.factories import create_meter, rated_account, rated_subscription
from tests.support.polling import eventually
from tests.support.services import auth, running_app

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@dataclass
class Service:
    """Rating in-process, and a client of it as the CLI makes one (an erp key)."""

    app: FastAPI
    client: httpx.AsyncClient
    """The CLI's client (an erp key)."""
    admin: httpx.AsyncClient
    """The test's own client (meters)."""

    @property
    def runtime(self) -> RatingRuntime:
        runtime: RatingRuntime = self.app.state.runtime
        return runtime


async def _service(sqlite_url: str, tmp_path: Path, *, poll_s: float) -> AsyncIterator[Service]:
    settings = rating_settings(sqlite_url, usage_load_dir=str(tmp_path / "loads"), usage_load_poll_s=poll_s)
    app = create_app(settings, clock=FixedClock(NOW))
    async with running_app(app) as admin:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://rating", headers=auth("erp")
        ) as cli:
            yield Service(app, cli, admin)


@pytest.fixture
async def service(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    """Rating loading files as they come (its worker polls every 50 ms)."""
    async for running in _service(sqlite_url, tmp_path, poll_s=0.05):
        yield running


@pytest.fixture
async def idle_service(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    """Rating loading nothing until the test runs a worker."""
    async for running in _service(sqlite_url, tmp_path, poll_s=0):
        yield running


async def _usage_file(service: Service, path: Path) -> Path:
    """A CSV file: 3 rows counted, 1 duplicate, 1 rejected (negative quantity)."""
    meter = (await create_meter(service.admin))["code"]
    account = await rated_account(service.runtime.db)
    sub = await rated_subscription(service.runtime.db, account_id=account, product_id="prod_api")
    rows = [
        "event_id,subscription_id,meter,quantity,timestamp",
        f"cli-1,{sub},{meter},1,2026-07-01T08:00:00Z",
        f"cli-2,{sub},{meter},2,2026-07-02T08:00:00Z",
        f"cli-2,{sub},{meter},2,2026-07-02T08:00:00Z",
        f"cli-3,{sub},{meter},-3,2026-07-03T08:00:00Z",
        f"cli-4,{sub},{meter},4,2026-07-04T08:00:00Z",
    ]
    return _written(path, "\n".join(rows) + "\n")


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


async def test_the_cli_uploads_a_file_shows_plain_progress_lines_and_the_summary(
    service: Service, tmp_path: Path
) -> None:
    path = await _usage_file(service, tmp_path / "july.csv")
    out = io.StringIO()

    status = await load_usage_file(path, client=service.client, out=out, tty=False, poll_s=0.05)

    text = out.getvalue()
    assert status == 0, text
    assert "\r" not in text
    assert "uploading july.csv: 100.0% of" in text
    assert "july.csv: received as ul_" in text
    summary = text[text.index(" completed: ") :]
    assert "completed: 5 rows of" in summary
    assert "accepted 3 (counted 3, late 0, unmatched 0, filtered 0)" in summary
    assert "duplicates 1" in summary
    assert "rejected 1" in summary and "line 5: quantity: must not be negative" in summary
    load_id = text.split("received as ")[1].split()[0]
    load = (await service.client.get(f"/v1/usage/files/{load_id}")).json()
    assert load["name"] == "july.csv" and load["state"] == "completed"


async def test_on_a_terminal_the_progress_is_one_line_redrawn_in_place(
    service: Service, tmp_path: Path
) -> None:
    path = await _usage_file(service, tmp_path / "july.ndjson.csv")
    out = io.StringIO()

    status = await load_usage_file(path, client=service.client, out=out, tty=True, poll_s=0.05)

    text = out.getvalue()
    assert status == 0, text
    assert text.startswith("\ruploading july.ndjson.csv:")
    progress = text.split("\n")[-1 - len(text.split(" completed: ")[1].split("\n"))]
    assert progress.count("\r") >= 1 and "completed" in progress.split("\r")[-1]


async def test_a_refused_upload_exits_2_with_the_problem(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("event_id,meter,qty\n1,m,1\n")
    out = io.StringIO()

    status = await load_usage_file(path, client=service.client, out=out, tty=False, poll_s=0.05)

    assert status == 2
    assert "upload refused: 422 Validation failed" in out.getvalue()
    assert "header.3: unknown column 'qty'" in out.getvalue()


async def test_a_failed_load_exits_1_with_its_reason(idle_service: Service, tmp_path: Path) -> None:
    path = await _usage_file(idle_service, tmp_path / "gone.csv")
    out = io.StringIO()
    spool = tmp_path / "loads"
    cli = asyncio.create_task(
        load_usage_file(path, client=idle_service.client, out=out, tty=False, poll_s=0.05)
    )
    spooled = await eventually(lambda: _listing(spool), until=bool)
    spooled[0].unlink()  # lost before any worker read it
    runtime = idle_service.runtime
    await load_pending_files(
        units_of_work=runtime.rating_unit_of_work, files=runtime.usage_file_store(), worker="w"
    )

    status = await asyncio.wait_for(cli, timeout=20)

    assert status == 1
    assert "failed: the spooled file is gone" in out.getvalue()


async def _listing(directory: Path) -> list[Path]:
    return _spooled(directory)


def _spooled(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.csv")) if directory.is_dir() else []


async def test_an_unreachable_service_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("event_id,account_id,meter,quantity,timestamp\n")
    out = io.StringIO()
    async with httpx.AsyncClient(base_url="http://127.0.0.1:1") as client:
        status = await load_usage_file(path, client=client, out=out, tty=False)
    assert status == 2
    assert "cannot reach the rating service at http://127.0.0.1:1" in out.getvalue()
