"""Schemathesis over a service's own OpenAPI: no request yields a 5xx or an off-schema response.

Stateless, generated examples for every operation, with the admin key. Sync on purpose:
schemathesis runs the ASGI app (and its lifespan) on its own event-loop thread. Services seed
one of everything first so that half of the cases reach handlers with ids that exist.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.services import auth

Seeder = Callable[[Any], dict[str, str]]


def examples_per_operation(default: int) -> int:
    """Bounded to keep the suite fast; FUZZ_EXAMPLES raises it for a deeper run."""
    return int(os.environ.get("FUZZ_EXAMPLES", str(default)))


def seed_client(app: Any) -> Any:
    """A synchronous client on the app, authenticated as admin (use as a context manager)."""
    client = get_client(app)
    client.headers.update(auth())
    return client


def fuzz_every_operation(app: Any, *, seed: Seeder, examples: int, min_operations: int) -> None:
    """Fail on the first 5xx or response that breaks the documented schema."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, response_schema_conformance]
    headers = auth()
    try:
        seeded = seed(app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= min_operations
        for operation in operations:
            names = re.findall(r"\{(\w+)\}", operation.path)
            strategy = operation.as_strategy(headers=headers)
            if names:
                # Half on ids that exist, so changes and transitions reach the handlers, not only 404s.
                known = {name: seeded[name] for name in names}
                strategy = strategy | operation.as_strategy(headers=headers, path_parameters=known)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=checks, headers=headers)

            check()
    finally:
        shutdown_lifespans()
