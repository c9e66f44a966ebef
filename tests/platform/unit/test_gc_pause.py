"""`gc_paused` (libs.platform.memory): the collector off over a stretch, on after the last one."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from libs.platform import memory as gc_pause
from libs.platform.memory import gc_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_stretches_enable_it_when_the_last_one_ends() -> None:
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second stretch still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_it_is_enabled_again_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_stretches_that_keep_overlapping_still_collect_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    class Node:
        other: object

    outer = gc_paused()
    outer.__enter__()
    node = Node()
    node.other = node  # a cycle: reference counting alone never frees it
    del node
    monkeypatch.setattr(gc_pause, "MAX_PAUSE_SECONDS", 0.0)
    before = sum(stat["collected"] for stat in gc.get_stats())
    with gc_paused():  # starts past the longest pause: one full collection first
        pass
    outer.__exit__(None, None, None)
    assert sum(stat["collected"] for stat in gc.get_stats()) > before


def test_a_collector_someone_else_disabled_is_left_off() -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_pause_past_the_longest_collects_only_young_objects_until_the_full_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc_pause, "MAX_PAUSE_SECONDS", 0.0)
    outer = gc_paused()
    outer.__enter__()
    full_before = gc.get_stats()[2]["collections"]
    with gc_paused():
        pass
    assert gc.get_stats()[2]["collections"] == full_before  # young generations only
    monkeypatch.setattr(gc_pause, "MAX_FULL_PAUSE_SECONDS", 0.0)
    with gc_paused():
        pass
    outer.__exit__(None, None, None)
    assert gc.get_stats()[2]["collections"] == full_before + 1
