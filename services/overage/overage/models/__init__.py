"""Tables of the overage service (its own database; the platform tables come from libs).

One module per finance concept (`models/<concept>.py`); each is imported here so that
`SQLModel.metadata` — what Alembic compares migrations against — holds every table.
"""

from __future__ import annotations

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from overage.models import (
    cases,  # noqa: F401
    customer_billing,  # noqa: F401
    notices,  # noqa: F401
    resold_subscriptions,  # noqa: F401
    vendor_payables,  # noqa: F401
    vendors,  # noqa: F401
)
