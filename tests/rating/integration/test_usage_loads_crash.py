"""Rating as a real process (`python -m rating`, SQLite, bus off): SIGKILL in the middle of a file's
load, restart, and the load goes on from its last committed chunk — every row counted once; then
`python -m rating.cli load-usage` uploads a file to it and follows the load to the end."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.platform.broker import free_port
from libs.platform.settings import Role
from tests.rating.integration.factories import meter_body
from tests.support.services import API_KEYS, API_KEYS_SETTING, auth

REPO_ROOT = Path(__file__).resolve().parents[3]
# 100 chunks of 2,000 rows (the 200,000 rows of before): the kill lands after the first chunk's
# commit and long before the last. 20 chunks were loaded in full before the kill on a fast machine.
CHUNK_ROWS = 2_000
ROWS = 100 * CHUNK_ROWS
CLI_ROWS = 3 * CHUNK_ROWS


class RatingProcess:
    """`python -m rating` on a port of its own, its output in a file."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.database = tmp_path / "rating.db"
        self.log = tmp_path / "rating.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("API_KEYS", "DATABASE_", "USAGE_"))},
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ENVIRONMENT": "test",
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "API_KEYS": API_KEYS_SETTING,
            "BUS_ENABLED": "false",
            "USAGE_LOAD_DIR": str(tmp_path / "loads"),
            "USAGE_LOAD_POLL_S": "0.2",
            "USAGE_LOAD_CHUNK_ROWS": str(CHUNK_ROWS),
            "USAGE_LOAD_LEASE_S": "2",  # a dead worker's load is taken over 2 s after its last chunk
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rating"],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def rating_process(tmp_path: Path) -> Iterator[RatingProcess]:
    process = RatingProcess(tmp_path)
    try:
        yield process
    finally:
        process.stop()


def _usage_file(path: Path, meter: str, rows: int, prefix: str) -> Path:
    """A CSV file of events of an account rating does not know yet: each one accepted, unmatched."""
    with path.open("w") as out:
        out.write("event_id,account_id,meter,quantity,timestamp\n")
        for n in range(1, rows + 1):
            out.write(f"{prefix}-{n:07d},acct_later,{meter},1,2026-07-{1 + n % 14:02d}T08:00:00Z\n")
    return path


def _load(client: httpx.Client, load_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/usage/files/{load_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _poll(client: httpx.Client, load_id: str, until: Any, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while not until(load := _load(client, load_id)):
        assert time.monotonic() < deadline, load
        time.sleep(0.05)
    return load


def _events_of(database: Path, load_id: str) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM usage_events WHERE load_id = ?", (load_id,)
        ).fetchone()
    return int(count)


def test_a_load_killed_mid_way_goes_on_after_a_restart_and_counts_each_row_once(
    rating_process: RatingProcess, tmp_path: Path
) -> None:
    rating_process.start()
    with httpx.Client(base_url=rating_process.url, headers=auth(), timeout=60) as client:
        meter = client.post("/v1/meters", json=meter_body()).json()["code"]
        path = _usage_file(tmp_path / "big.csv", meter, ROWS, "kill")
        with path.open("rb") as body:
            uploaded = client.post("/v1/usage/files", content=body, headers={"content-type": "text/csv"})
        assert uploaded.status_code == 202, uploaded.text
        load_id = uploaded.json()["id"]

        halfway = _poll(client, load_id, lambda load: load["rows_read"] > 0)
        rating_process.kill()
        assert halfway["state"] == "loading" and halfway["rows_read"] < ROWS, halfway
        committed = _events_of(rating_process.database, load_id)
        assert committed >= halfway["rows_read"] and committed < ROWS

        rating_process.start()
        done = _poll(client, load_id, lambda load: load["state"] != "loading")

    assert (done["state"], done["rows_read"], done["accepted"], done["unmatched"]) == (
        "completed",
        ROWS,
        ROWS,
        ROWS,
    )
    assert (done["duplicates"], done["rejected"]) == (0, 0)  # no chunk read twice, none lost
    assert _events_of(rating_process.database, load_id) == ROWS
    assert not any((tmp_path / "loads").iterdir())


def test_the_cli_uploads_to_the_running_service_and_follows_the_load(
    rating_process: RatingProcess, tmp_path: Path
) -> None:
    rating_process.start()
    with httpx.Client(base_url=rating_process.url, headers=auth(), timeout=30) as client:
        meter = client.post("/v1/meters", json=meter_body()).json()["code"]
    path = _usage_file(tmp_path / "small.csv", meter, CLI_ROWS, "cli")

    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "rating.cli",
            "load-usage",
            str(path),
            "--url",
            rating_process.url,
            "--key",
            API_KEYS[Role.ERP],
            "--interval",
            "0.1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "small.csv: received as ul_" in finished.stdout
    assert f" completed: {CLI_ROWS:,} rows of " in finished.stdout
    assert f"accepted {CLI_ROWS:,} (counted 0, late 0, unmatched {CLI_ROWS:,}, filtered 0)" in finished.stdout
