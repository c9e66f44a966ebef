"""Tables of the rating service (its own database; the platform tables come from libs)."""

from __future__ import annotations

import libs.platform.audit  # noqa: F401
import libs.platform.idempotency  # noqa: F401
import libs.platform.inbox  # noqa: F401
import libs.platform.outbox  # noqa: F401
