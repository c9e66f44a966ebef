"""Which paths each of rating's schemathesis runs fuzzes: each concept seeds rows of its own, so
each has its own run over its own operations, and together they take every operation once
(`test_openapi_fuzz.py` checks it)."""

from __future__ import annotations

import re
from typing import Any

FUZZ_SCOPES: dict[str, str] = {
    "usage": r"^/v1/meters|^/v1/usage(/review(/reprocess)?|/summary)?$|^/v1/subscriptions/[^/]+/usage$"
    r"|^/(healthz|readyz|metrics)$|^/v1/audit-log$",
    "rated_usage": r"^/v1/(rated-usage|entitlements)|^/v1/subscriptions/[^/]+/charges$",
    "balances": r"^/v1/balances",
    "support": r"^/v1/support-",
}


def scoped(document: dict[str, Any], scope: str) -> dict[str, Any]:
    """The OpenAPI document with only the paths of one run (for counting its links)."""
    regex = re.compile(FUZZ_SCOPES[scope])
    return {**document, "paths": {p: item for p, item in document["paths"].items() if regex.search(p)}}
