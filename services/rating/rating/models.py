"""Tables of the rating service (its own database; the platform tables come from libs)."""

from __future__ import annotations

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
