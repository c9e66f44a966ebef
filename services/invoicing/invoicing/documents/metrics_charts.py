"""Finance metrics as SVG charts an ops dashboard can embed: MRR by month, and the A/R aging by
bucket. Drawn as every chart of the service is (`invoicing.documents.charts`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from invoicing.documents.charts import COLORS, money_axis, month_ticks, new_axes, svg_bytes
from invoicing.domain.metrics import MonthMetrics
from invoicing.domain.receivables import AGING_BUCKETS, AgingBucket, AgingRow
from libs.platform.money import minor_units

BUCKET_LABELS = {
    AgingBucket.CURRENT: "Current",
    AgingBucket.DAYS_1_30: "1-30 days",
    AgingBucket.DAYS_31_60: "31-60 days",
    AgingBucket.DAYS_61_90: "61-90 days",
    AgingBucket.OVER_90: "Over 90 days",
}


def _amount_label(amount: Decimal, currency: str) -> str:
    return f"{amount:,.{minor_units(currency) if currency else 2}f}"


def _in(currency: str) -> str:
    return f" ({currency})" if currency else ""


def mrr_svg(currency: str, rows: Sequence[MonthMetrics], *, month_from: str, month_to: str) -> bytes:
    """MRR at each month's end as bars, labelled with their amounts when there are few."""
    figure, axes = new_axes(len(rows))
    positions = list(range(len(rows)))
    bars = axes.bar(positions, [float(row.mrr) for row in rows], 0.6, color=COLORS[0], label="MRR")
    if len(rows) <= 12:
        axes.bar_label(bars, labels=[_amount_label(row.mrr, currency) for row in rows], fontsize=7, padding=2)
    month_ticks(axes, [row.month for row in rows])
    money_axis(axes, currency, f"MRR by month{_in(currency)}, {month_from} to {month_to}")
    axes.margins(y=0.12)
    return svg_bytes(figure)


def aging_svg(currency: str, total: AgingRow | None, *, as_of: date) -> bytes:
    """What is owed in each aging bucket at `as_of`, one bar per bucket, labelled with its amount."""
    figure, axes = new_axes(len(AGING_BUCKETS))
    amounts = [Decimal(0) if total is None else total.amount(bucket) for bucket in AGING_BUCKETS]
    colors = ["#55A868", "#CCB974", "#DD8452", "#C44E52", "#8C1C13"]
    positions = list(range(len(AGING_BUCKETS)))
    bars = axes.bar(positions, [float(a) for a in amounts], 0.6, color=colors)
    axes.bar_label(bars, labels=[_amount_label(a, currency) for a in amounts], fontsize=8, padding=2)
    axes.set_xticks(positions, [BUCKET_LABELS[b] for b in AGING_BUCKETS], fontsize=9)
    owed = sum(amounts, Decimal(0))
    money_axis(
        axes,
        currency,
        f"A/R aging{_in(currency)} as of {as_of.isoformat()}: {_amount_label(owed, currency)} owed",
    )
    axes.margins(y=0.12)
    return svg_bytes(figure)
