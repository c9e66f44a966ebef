"""The deferred revenue waterfall as an SVG chart an ops dashboard can embed.

Drawn with matplotlib's object API on the Agg backend (no display, no pyplot global state, so
requests can draw at once): per month, bars of revenue billed and recognised, and the deferred
revenue at the month's close as a line. Amounts are plotted as floats — a picture only; the
numbers themselves are in the JSON and CSV views.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from invoicing.domain.revenue import WaterfallMonth

MAX_LABELS = 24


def waterfall_svg(currency: str, rows: Sequence[WaterfallMonth], *, title: str | None = None) -> bytes:
    """The waterfall of one currency as an SVG document."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    months = [row.month for row in rows]
    positions = list(range(len(rows)))
    width = 0.38
    figure = Figure(figsize=(min(14.0, max(8.0, 0.3 * len(rows) + 3)), 4.8), dpi=100)
    axes = figure.add_subplot()
    axes.bar(
        [p - width / 2 for p in positions],
        [float(row.billed) for row in rows],
        width,
        label="Billed",
        color="#4C72B0",
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [float(row.recognized) for row in rows],
        width,
        label="Recognised",
        color="#55A868",
    )
    axes.plot(
        positions,
        [float(row.deferred_closing) for row in rows],
        label="Deferred (closing)",
        color="#C44E52",
        marker="o",
        markersize=3,
        linewidth=2,
    )
    # At most MAX_LABELS month labels: text layout is most of the drawing's cost on long ranges.
    step = max(1, -(-len(rows) // MAX_LABELS))
    slanted = len(rows) > 12
    axes.set_xticks(
        positions[::step],
        months[::step],
        rotation=60 if slanted else 0,
        ha="right" if slanted else "center",
        fontsize=8,
    )
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    axes.set_ylabel(currency)
    axes.set_title(title or f"Deferred revenue waterfall ({currency})")
    axes.grid(axis="y", linestyle=":", linewidth=0.6)
    axes.axhline(0, color="#333333", linewidth=0.8)
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
