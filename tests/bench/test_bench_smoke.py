"""Each benchmark runs end to end on a tiny workload and reports positive figures.

Only that they work: how fast is for `make bench` to show, next to its baselines, never for a
test to assert (a timed assertion fails on a busy machine and passes on a broken one).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import bus, quote
from bench.report import Figure

ROOT = Path(__file__).resolve().parents[2]


def _assert_measured(figures: list[Figure], names: set[str]) -> None:
    assert {f.name for f in figures} == names
    for figure in figures:
        assert figure.value > 0, figure
        assert figure.baseline > 0, figure
        assert figure.ratio > 0, figure


@pytest.mark.broker
async def test_bus_benchmark_measures_outbox_and_consumer_against_the_raw_broker() -> None:
    figures = await bus.measure(200, per_transaction=50)

    _assert_measured(
        figures,
        {
            "bus.outbox.write",
            "bus.outbox.relay",
            "bus.outbox",
            "bus.consumer",
            "bus.outbox.batched.relay",
            "bus.outbox.batched",
            "bus.consumer.decode",
            "bus.consumer.batched",
        },
    )
    baselines = {f.name: f.baseline_label for f in figures}
    assert baselines["bus.outbox.batched"] == baselines["bus.outbox"] == "raw aiokafka produce, same bytes"
    assert baselines["bus.consumer.decode"] == baselines["bus.consumer"] == "raw aiokafka consume, same msgs"
    assert baselines["bus.consumer.batched"] == baselines["bus.consumer"]


def test_engine_benchmark_prices_lines_against_decimal_math() -> None:
    figure = quote.measure_engine(50)

    _assert_measured([figure], {"quote.engine"})


def test_engine_mix_covers_every_priced_model() -> None:
    lines = quote.quote_lines(50)

    assert {line.spec.model for line in lines} == {spec.model for spec in quote.SPECS}
    assert quote.price_lines(lines) > 0


async def test_http_benchmark_posts_quotes_against_healthz() -> None:
    figure = await quote.measure_http(1, lines_per_quote=50, health_requests=20)

    _assert_measured([figure], {"quote.http"})


def test_command_line_runs_one_benchmark_and_prints_the_table() -> None:
    tiny = ["--engine-lines", "50", "--quotes", "1", "--lines-per-quote", "50", "--health-requests", "20"]
    result = subprocess.run(
        [sys.executable, "-m", "bench", "quote", *tiny],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    header, _rule, *rows = result.stdout.splitlines()[1:]
    assert header.split()[:3] == ["benchmark", "figure", "unit"]
    assert [row.split()[0] for row in rows] == ["quote.engine", "quote.http"]


@pytest.mark.broker
def test_command_line_prints_every_bus_figure_beside_its_baseline() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "bus", "--events", "300"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    header, _rule, *rows = result.stdout.splitlines()[1:]
    assert header.split()[:5] == ["benchmark", "figure", "unit", "baseline", "baseline"]
    printed = {row.split()[0]: row for row in rows}
    assert list(printed) == [
        "bus.outbox.write",
        "bus.outbox.relay",
        "bus.outbox",
        "bus.consumer",
        "bus.outbox.batched.relay",
        "bus.outbox.batched",
        "bus.consumer.decode",
        "bus.consumer.batched",
    ]
    for name, row in printed.items():
        cells = row.split()
        # figure, its unit, the baseline figure, its unit, then the ratio and what the baseline is
        assert cells[2] == "events/s" and cells[4] == "msgs/s", row
        assert float(cells[1].replace(",", "")) > 0 and float(cells[3].replace(",", "")) > 0, row
        baseline_is = "raw aiokafka consume" if name.startswith("bus.consumer") else "raw aiokafka produce"
        assert baseline_is in row, row
