"""The margin report as CSV (one row per account and month, then a total per currency) and as an
SVG chart (per month, all accounts together, in one currency: what we billed and what the vendor
billed as bars, the margin as a line).

The chart is drawn with matplotlib's Agg backend on a figure of its own (no pyplot state is
shared between requests); amounts are plotted as floats, which is fine for a picture — every
number a person reads exactly is in the JSON and the CSV.
"""

from __future__ import annotations

import csv
import io
import math
from decimal import Decimal
from typing import Final

from libs.platform.money import amount_out
from overage.domain.margins import MarginLine, MarginReport, monthly_series

CSV_COLUMNS: Final = (
    "account_id",
    "period",
    "currency",
    "billed_to_customer",
    "billed_by_vendor",
    "margin",
    "margin_percent",
)
_MAX_WIDTH_IN: Final = 12.0
_MAX_LABELS: Final = 18
_BILLED: Final = "#2f6db5"
_VENDOR: Final = "#e08a2c"
_MARGIN: Final = "#2e9e5b"


def _row(line: MarginLine) -> list[str]:
    c = line.currency
    percent = line.margin_percent
    return [
        line.account_id or "",
        line.period,
        c,
        str(amount_out(line.billed, c)),
        str(amount_out(line.vendor_billed, c)),
        str(amount_out(line.margin, c)),
        "" if percent is None else format(percent, "f"),
    ]


def margin_csv(report: MarginReport) -> str:
    """The report as CSV text (amounts as exact decimals; an empty percent when nothing was billed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in [*report.lines, *report.totals]:
        writer.writerow(_row(line))
    return out.getvalue()


def chart_currency(report: MarginReport, asked: str | None) -> str:
    """The currency to draw: the one asked for, else the one with most billed (USD when empty)."""
    if asked is not None:
        return asked
    if not report.totals:
        return "USD"
    return max(report.totals, key=lambda t: (t.billed, t.currency)).currency


def margin_svg(report: MarginReport, currency: str, title: str) -> bytes:
    """The chart as an SVG document."""
    # Imported here: matplotlib takes a while to load and only this route needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    series = monthly_series(report, currency)
    labels = [line.period for line in series]
    billed = [float(line.billed) for line in series]
    vendor = [float(line.vendor_billed) for line in series]
    margin = [float(line.margin) for line in series]
    total = next((t for t in report.totals if t.currency == currency), None)

    figure = Figure(figsize=(min(_MAX_WIDTH_IN, max(6.0, 0.55 * len(series) + 2.5)), 4.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(series)))
    width = 0.38
    axes.bar([p - width / 2 for p in positions], billed, width, label="Billed to customer", color=_BILLED)
    axes.bar([p + width / 2 for p in positions], vendor, width, label="Billed by vendor", color=_VENDOR)
    (margin_line,) = axes.plot(positions, margin, marker="o", color=_MARGIN, linewidth=1.8, label="Margin")
    axes.axhline(0, color="#555555", linewidth=0.6)
    # At most about 18 month labels, so a long range stays readable at a fixed width.
    step = max(1, math.ceil(len(series) / _MAX_LABELS))
    slanted = len(series) > 6
    axes.set_xticks(positions[::step])
    axes.set_xticklabels(labels[::step], rotation=45 if slanted else 0, ha="right" if slanted else "center")
    axes.set_xlim(-0.6, len(series) - 0.4)
    if len(series) > 24:
        margin_line.set_marker("")  # a marker a month would crowd a long range
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    axes.set_ylabel(currency)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    subtitle = ""
    if total is not None:
        percent = total.margin_percent
        subtitle = (
            f"total billed {_money(total.billed, currency)}, vendor {_money(total.vendor_billed, currency)}, "
            f"margin {_money(total.margin, currency)}" + ("" if percent is None else f" ({percent}%)")
        )
    axes.set_title(f"{title}\n{subtitle}" if subtitle else title, fontsize=10)
    axes.legend(loc="best", fontsize=8, framealpha=0.9)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount_out(amount, currency):,}"
