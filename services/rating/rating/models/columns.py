"""Column kinds the rating tables share (money and quantities use `ExactDecimal`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column

from libs.platform.db import UtcDateTime


def timestamp() -> Column[datetime]:
    """A UTC timestamp, required."""
    return Column(UtcDateTime(), nullable=False)
