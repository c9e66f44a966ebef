"""Every operation of rating's OpenAPI is fuzzed, by exactly one concept's schemathesis run."""

from __future__ import annotations

from rating.app import create_app
from tests.rating.integration.conftest import rating_settings
from tests.rating.integration.fuzz_scopes import FUZZ_SCOPES
from tests.support.fuzz import operations_fuzzed_once


def test_every_operation_is_fuzzed_by_exactly_one_run(sqlite_url: str) -> None:
    document = create_app(rating_settings(sqlite_url)).openapi()

    taken = operations_fuzzed_once(document, FUZZ_SCOPES)

    assert {operation: runs for operation, runs in taken.items() if len(runs) != 1} == {}
