"""What a benchmark reports and how the table is printed."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured rate next to the baseline measured in the same run.

    `ratio` is figure / baseline: the share of the floor (or ceiling) the measured path keeps,
    which stays comparable across machines when the absolute numbers do not.
    """

    name: str
    value: float
    unit: str
    baseline: float
    baseline_unit: str
    baseline_label: str

    @property
    def ratio(self) -> float:
        """figure / baseline (0 when the baseline could not be measured)."""
        return self.value / self.baseline if self.baseline > 0 else 0.0


@dataclass(frozen=True)
class Section:
    """Lines printed under the table: what a benchmark found besides its figures (where the time
    goes, the checks it made, the machine's load)."""

    title: str
    lines: Sequence[str]

    def render(self) -> str:
        """The title, then each line indented."""
        return "\n".join([f"{self.title}:", *(f"  {line}" for line in self.lines)])


def per_second(count: int, seconds: float) -> float:
    """Items per second, guarding against a zero-length window on a coarse clock."""
    return count / max(seconds, 1e-9)


def _timed(work: Callable[[], object], passes: int) -> float:
    started = time.perf_counter()
    for _ in range(passes):
        work()
    return time.perf_counter() - started


def _passes_for(work: Callable[[], object], min_run_s: float) -> int:
    """How many passes of `work` make a run of at least `min_run_s` (timeit's autorange)."""
    once = _timed(work, 1)
    return max(1, math.ceil(min_run_s / max(once, 1e-9)))


def compare_per_second(
    count: int,
    subject: Callable[[], object],
    baseline: Callable[[], object],
    *,
    repeats: int = 5,
    min_run_s: float = 0.25,
) -> tuple[float, float]:
    """Items per second of `subject` and of `baseline` (each handles `count` items a pass).

    The two run in turns (subject, baseline, subject, ...) so that both see the same load on a
    shared machine, each run repeated enough passes to last `min_run_s` (a 10 ms run is at the
    mercy of one context switch), and each keeps its best run (timeit's rule: noise only ever
    slows a CPU-bound loop down).
    """
    subject_passes = _passes_for(subject, min_run_s)
    baseline_passes = _passes_for(baseline, min_run_s)
    subject_best = baseline_best = float("inf")
    for _ in range(repeats):
        subject_best = min(subject_best, _timed(subject, subject_passes) / subject_passes)
        baseline_best = min(baseline_best, _timed(baseline, baseline_passes) / baseline_passes)
    return per_second(count, subject_best), per_second(count, baseline_best)


def reference_loop_seconds(repeats: int = 3) -> float:
    """Seconds this machine takes for a fixed pure-Python loop (10,000,000 integer additions,
    best of `repeats`): printed beside every report so that figures from two machines can be
    put side by side (the same code ran 2.3x slower on one machine of this workplace than on
    another: compare a change's figures on one machine only, or scale by this)."""

    def loop() -> int:
        total = 0
        for value in range(10_000_000):
            total += value
        return total

    return min(_timed(loop, 1) for _ in range(repeats))


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def _ratio(value: float) -> str:
    """`0.25x (1/4)`: below 1 the inverse reads better (one line costs 4 requests)."""
    if value <= 0:
        return "n/a"
    if value >= 1:
        return f"{value:.3g}x"
    return f"{value:.3g}x (1/{1 / value:,.0f})"


def render_table(figures: Sequence[Figure]) -> str:
    """A plain-text table: name, figure, unit, baseline, ratio, and what the baseline is."""
    header = ("benchmark", "figure", "unit", "baseline", "baseline unit", "ratio", "baseline is")
    rows = [
        (
            f.name,
            _number(f.value),
            f.unit,
            _number(f.baseline),
            f.baseline_unit,
            _ratio(f.ratio),
            f.baseline_label,
        )
        for f in figures
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    numeric = {1, 3, 5}

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
