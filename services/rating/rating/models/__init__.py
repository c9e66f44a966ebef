"""Tables of the rating service (its own database; the platform tables come from libs).

One module per finance concept (`models/<concept>.py`); each is imported here so that
`SQLModel.metadata` — what Alembic compares migrations against — holds every table, and its
tables are named from here (`from rating.models import Meter`). Money and quantities use
`ExactDecimal`, timestamps `UtcDateTime`.
"""

from __future__ import annotations

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from rating.models.balances import BalanceRow, BalanceTransactionRow
from rating.models.meters import Meter
from rating.models.read_model import (
    RatedAccount,
    RatedCostBook,
    RatedPrice,
    RatedSubscription,
    ReadModelGeneration,
)
from rating.models.support import (
    SupportContractRow,
    SupportContractTemplateRow,
    SupportRequestRow,
    SupportTimeAllocationRow,
    SupportTimeEntryRow,
)
from rating.models.usage import (
    RatedUsageRow,
    UsageAggregate,
    UsageEventRow,
    UsageGeneration,
    UsageUniqueValue,
)
from rating.models.usage_loads import UsageLoadRejectionRow, UsageLoadRow

__all__ = [
    "BalanceRow",
    "BalanceTransactionRow",
    "Meter",
    "RatedAccount",
    "RatedCostBook",
    "RatedPrice",
    "RatedSubscription",
    "RatedUsageRow",
    "ReadModelGeneration",
    "SupportContractRow",
    "SupportContractTemplateRow",
    "SupportRequestRow",
    "SupportTimeAllocationRow",
    "SupportTimeEntryRow",
    "UsageAggregate",
    "UsageEventRow",
    "UsageGeneration",
    "UsageLoadRejectionRow",
    "UsageLoadRow",
    "UsageUniqueValue",
]
