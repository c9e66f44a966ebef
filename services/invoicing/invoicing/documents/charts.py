"""What every SVG chart of the service shares: matplotlib's object API on the Agg backend (no
display, no pyplot global state, so requests can draw at once), one look (size, grid, money on
the y axis, month labels thinned on long ranges) and the SVG output without a date in it.

Amounts are plotted as floats — a picture only; the numbers themselves are in the JSON and CSV.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

MAX_LABELS = 24
"""Month labels drawn at most: text layout is most of the drawing's cost on long ranges."""

COLORS = ("#4C72B0", "#55A868", "#C44E52", "#8172B2", "#CCB974", "#64B5CD")


def new_axes(points: int) -> tuple[Any, Any]:
    """A figure sized for `points` bars or months, and its one axes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(min(14.0, max(8.0, 0.3 * points + 3)), 4.8), dpi=100)
    return figure, figure.add_subplot()


def money_axis(axes: Any, currency: str, title: str) -> None:
    """Amounts with thousands separators on the y axis, the currency as its label, a title, a grid."""
    from matplotlib.ticker import FuncFormatter

    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    axes.set_ylabel(currency)
    axes.set_title(title)
    axes.grid(axis="y", linestyle=":", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.axhline(0, color="#333333", linewidth=0.8)


def month_ticks(axes: Any, months: Sequence[str]) -> None:
    """Month labels under their positions, one in `step` on long ranges, slanted past a year."""
    positions = list(range(len(months)))
    step = max(1, -(-len(months) // MAX_LABELS))
    slanted = len(months) > 12
    axes.set_xticks(
        positions[::step],
        list(months)[::step],
        rotation=60 if slanted else 0,
        ha="right" if slanted else "center",
        fontsize=8,
    )


def svg_bytes(figure: Any) -> bytes:
    """The figure as an SVG document (no creation date, so the same data draws the same bytes)."""
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
