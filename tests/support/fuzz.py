"""Schemathesis over a service's own OpenAPI, with every check it has, as `schemathesis run` does.

The engine runs all phases (explicit examples, coverage, generated data, stateful sequences
that follow the document's links) and every check: server errors, status codes, content types,
headers, response schemas, negative data refused, positive data accepted, unsupported methods
and `Allow`, use after delete, resource availability, ignored auth. Sync on purpose:
schemathesis runs the ASGI app (and its lifespan) on its own event-loop thread. Services seed
one of everything first so that lists and look-ups have rows to show.

One allowance, stated per operation by the service's test with its reason: rules JSON Schema
cannot say (a date after another field's date, a value that must exist in stored data, no
duplicates by key). A schema-valid request refused with 422 passes the positive-data check
only when *every* reported field is one of the operation's documented rule fields; any other
422 on schema-valid data still fails.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.python.asgi import get_client, shutdown_lifespans

from tests.support.services import auth

Seeder = Callable[[Any], dict[str, str]]
# Per operation ("POST /v1/discounts"): the fields of rules beyond JSON Schema, each with why.
RulesBeyondSchema = Mapping[str, Mapping[str, str]]


def examples_per_operation(default: int) -> int:
    """Bounded to keep the suite fast; FUZZ_EXAMPLES raises it for a deeper run."""
    return int(os.environ.get("FUZZ_EXAMPLES", str(default)))


def seed_client(app: Any) -> Any:
    """A synchronous client on the app, authenticated as admin (use as a context manager)."""
    client = get_client(app)
    client.headers.update(auth())
    return client


def _field_root(field: str) -> str:
    # "lines.3.order_line_id" -> "lines.order_line_id": rules are stated per field, not per index.
    return ".".join(part for part in field.split(".") if not part.isdigit())


def _is_card_number(error: Any) -> bool:
    # Any field of any endpoint refuses a card number (DESIGN §6; libs/platform/card_numbers.py):
    # a generated 13-19 digit value that passes the Luhn check is one, whatever its schema.
    return isinstance(error, dict) and (
        error.get("code") == "card_number" or "holds a card number" in str(error.get("message"))
    )


def _is_documented_rule(response: Any, operation: str, rules: RulesBeyondSchema) -> bool:
    if response is None or response.status_code != 422:
        return False
    try:
        errors = json.loads(response.content)["errors"]
    except (ValueError, KeyError, TypeError):
        return False
    if errors and all(_is_card_number(error) for error in errors):
        return True
    if operation not in rules:
        return False
    documented = rules[operation]
    return bool(errors) and all(
        any(root == name or root.startswith(name + ".") for name in documented)
        for root in (_field_root(str(e.get("field"))) for e in errors)
    )


def _summary(response: Any) -> str:
    if response is None:
        return "no response"
    try:
        errors = json.loads(response.content)["errors"]
        return f"{response.status_code} " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)[:600]
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.content[:300]!r}"


def fuzz_every_operation(
    app: Any,
    *,
    seed: Seeder,
    examples: int,
    min_operations: int,
    rules_beyond_schema: RulesBeyondSchema,
    path_regex: str | None = None,
) -> None:
    """Fail with every check's findings, one line per failure class and operation. `path_regex`
    fuzzes only the paths it matches (a large service split into areas that run side by side)."""
    config = SchemathesisConfig.from_dict(
        {
            "headers": auth(),
            "generation": {"max-examples": examples},
            "workers": 1,
            "seed": 6,
            # No .schemathesis/ cache: it replays earlier runs' cases, so a run would depend on
            # what ran before in this directory (and litter the work tree).
            "cache": {"enabled": False},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    if path_regex is not None:
        schema = schema.include(path_regex=path_regex)
    failures: dict[tuple[str, str], str] = {}
    operations: set[str] = set()
    try:
        seed(app)
        for event in from_schema(schema).execute():
            if isinstance(event, events.NonFatalError | events.FatalError):
                if path_regex is not None and type(getattr(event, "value", None)).__name__ == "NoLinksFound":
                    continue  # an area without links of its own: no stateful phase to run
                failures[("error", getattr(event, "label", "run"))] = repr(getattr(event, "value", event))[
                    :300
                ]
            if not isinstance(event, events.ScenarioFinished):
                continue
            operations.add(event.recorder.label)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    interaction = event.recorder.interactions.get(case_id)
                    response = interaction.response if interaction else None
                    label = event.recorder.label
                    case = event.recorder.cases.get(case_id)
                    operation = f"{case.value.method} {case.value.operation.path}" if case else label
                    if failure.code == "ST202" and _is_documented_rule(
                        response, operation, rules_beyond_schema
                    ):
                        continue
                    failures.setdefault(
                        (failure.code, operation),
                        f"{failure.title}: {_summary(response)}\n{check.failure_info.code_sample[:600]}",
                    )
    finally:
        shutdown_lifespans()
    assert len(operations) >= min_operations, sorted(operations)
    report = (f"{code} {operation}: {detail}" for (code, operation), detail in sorted(failures.items()))
    assert not failures, "\n\n".join(report)


def _operations(document: Mapping[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation of the document by its operationId: (method, path, operation)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            op_id = operation["operationId"]
            assert op_id not in found, f"operationId {op_id} twice: {found[op_id][:2]} and {(method, path)}"
            found[op_id] = (method, path, operation)
    return found


def _resolve(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _pointer_exists(document: Mapping[str, Any], schema: Mapping[str, Any], pointer: str) -> bool:
    for name in pointer.strip("/").split("/"):
        resolved = _resolve(document, schema)
        if name.isdigit():  # an index into an array (a list's first item, say)
            if resolved.get("type") != "array" or "items" not in resolved:
                return False
            schema = resolved["items"]
            continue
        properties = resolved.get("properties", {})
        if name not in properties:
            return False
        schema = properties[name]
    return True


def assert_links_follow_creation(document: Mapping[str, Any]) -> int:
    """Check the document's OpenAPI links; returns how many there are.

    Each link names an existing operation, gives exactly that operation's path parameters, and
    reads each from a field the response schema has. Every creating POST (201 with an `id`) whose
    collection has an item path with a GET links to that GET with the new id.
    """
    operations = _operations(document)
    count = 0
    for source, (method, path, operation) in operations.items():
        for status, response in operation["responses"].items():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            for name, link in response.get("links", {}).items():
                count += 1
                where = f"{method.upper()} {path} {status} link {name}"
                assert link["operationId"] in operations, f"{where}: no operation {link['operationId']}"
                target_path = operations[link["operationId"]][1]
                assert set(link["parameters"]) == set(re.findall(r"{([^}]+)}", target_path)), where
                for expression in link["parameters"].values():
                    assert expression.startswith("$response.body#/"), where
                    pointer = expression.removeprefix("$response.body#")
                    assert _pointer_exists(document, body, pointer), f"{where}: no {pointer} in the body"
            created = operation["responses"].get("201", {})
            schema = created.get("content", {}).get("application/json", {}).get("schema", {})
            if method != "post" or not _pointer_exists(document, schema, "/id"):
                continue
            for item_path, item in document["paths"].items():
                parameter = re.fullmatch(re.escape(path) + r"/{([^}/]+)}", item_path)
                if parameter and "get" in item:
                    expected = {
                        "operationId": item["get"]["operationId"],
                        "parameters": {parameter.group(1): "$response.body#/id"},
                    }
                    assert expected in created.get("links", {}).values(), f"{source}: no link to {expected}"
    return count
