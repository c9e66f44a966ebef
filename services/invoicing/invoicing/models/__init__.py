"""Tables of the invoicing service (its own database; the platform tables come from libs).

One module per finance concept (`models/<concept>.py`); each is imported here so that
`SQLModel.metadata` — what Alembic compares migrations against — holds every table.
"""

from __future__ import annotations

import invoicing.models.tax_rates  # noqa: F401
import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from invoicing.models import (
    bill_runs,  # noqa: F401
    billing_inputs,  # noqa: F401
    collections,  # noqa: F401
    credits,  # noqa: F401
    invoices,  # noqa: F401
    ledger,  # noqa: F401
    lockbox,  # noqa: F401
    payments,  # noqa: F401
    revenue,  # noqa: F401
)
