"""The malloc arena cap services apply at start-up (`libs.platform.memory`): applied on glibc,
left alone when the environment sets `MALLOC_ARENA_MAX` itself. Run in a child process, so that
the test process keeps its own arenas."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = "from libs.platform.memory import limit_malloc_arenas; print(limit_malloc_arenas())"


def _probe(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_arena_cap_is_applied_unless_the_environment_sets_its_own() -> None:
    assert _probe() == "True"
    assert _probe(MALLOC_ARENA_MAX="4") == "False"
