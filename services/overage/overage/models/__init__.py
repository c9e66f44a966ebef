"""Tables of the overage service (its own database; the platform tables come from libs).

One module per concept; importing this package registers every table on the metadata.
"""

from __future__ import annotations

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from overage.models import cases, notices, vendors  # noqa: F401
