"""The deferred revenue waterfall as an SVG chart an ops dashboard can embed.

Per month, bars of revenue billed and recognised, and the deferred revenue at the month's close
as a line; drawn as every chart of the service is (`invoicing.documents.charts`).
"""

from __future__ import annotations

from collections.abc import Sequence

from invoicing.documents.charts import COLORS, money_axis, month_ticks, new_axes, svg_bytes
from invoicing.domain.revenue import WaterfallMonth


def waterfall_svg(currency: str, rows: Sequence[WaterfallMonth], *, title: str | None = None) -> bytes:
    """The waterfall of one currency as an SVG document."""
    positions = list(range(len(rows)))
    width = 0.38
    figure, axes = new_axes(len(rows))
    axes.bar(
        [p - width / 2 for p in positions],
        [float(row.billed) for row in rows],
        width,
        label="Billed",
        color=COLORS[0],
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [float(row.recognized) for row in rows],
        width,
        label="Recognised",
        color=COLORS[1],
    )
    axes.plot(
        positions,
        [float(row.deferred_closing) for row in rows],
        label="Deferred (closing)",
        color=COLORS[2],
        marker="o",
        markersize=3,
        linewidth=2,
    )
    month_ticks(axes, [row.month for row in rows])
    money_axis(axes, currency, title or f"Deferred revenue waterfall ({currency})")
    axes.legend(loc="upper right", fontsize=8)
    return svg_bytes(figure)
