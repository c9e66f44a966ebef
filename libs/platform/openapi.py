"""What a service's OpenAPI document says beyond its models' types, one way for every service.

Links: what a client (or a stateful fuzzer) can do next with what a response returned. A route
that creates something passes `responses=created_links(...)`,
naming the operations (by operation id, the handler's name — see `create_service_app`) that take
the new resource's id as a path parameter. The document then says "POST /v1/products → GET
/v1/products/{product_id} with product_id = the body's id", so schemathesis's stateful phase
follows create → read → update, and a generated client can too.

Rules between fields: `one_case_per` states in JSON Schema which fields each kind of a request
needs or refuses ("an amount discount has a currency, a percent one none"), so the document says
what the handlers enforce.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# {operation id: {path parameter: JSON pointer into the response body}}
LinkTargets = Mapping[str, Mapping[str, str]]


def link_name(operation_id: str) -> str:
    """The link's name in the document: the operation id in PascalCase ("get_product" -> "GetProduct")."""
    return "".join(part.capitalize() for part in operation_id.split("_"))


def response_links(status: int, targets: LinkTargets) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: links from its `status` response, parameters read from its body."""
    links = {
        link_name(operation_id): {
            "operationId": operation_id,
            "parameters": {name: f"$response.body#{pointer}" for name, pointer in parameters.items()},
        }
        for operation_id, parameters in targets.items()
    }
    return {status: {"links": links}}


def created_links(id_parameter: str, *operation_ids: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a creating route: its 201 links to operations taking the new id as `id_parameter`."""
    return response_links(201, {operation_id: {id_parameter: "/id"} for operation_id in operation_ids})


# What a kind needs of another field, as JSON Schema: the field is set (present, not null), unset
# (absent or null), set to one value ({"const": v}), or one of some values when present
# ({"enum": [...]}, for a field with a default).
SET: dict[str, Any] = {"not": {"type": "null"}}
UNSET: dict[str, Any] = {"type": "null"}


def one_case_per(discriminator: str, cases: Mapping[str, Mapping[str, dict[str, Any]]]) -> dict[str, Any]:
    """`json_schema_extra`: one `oneOf` branch per value of `discriminator`, with the fields it needs.

    So a rule such as "an amount discount has a currency, a percent one none" is in the document,
    and a fuzzer (or a generated client) knows it; the handlers enforce the same rule.
    """
    return {
        "oneOf": [
            {
                "required": [
                    discriminator,
                    *(name for name, rule in fields.items() if rule is SET or "const" in rule),
                ],
                "properties": {discriminator: {"const": value}, **fields},
            }
            for value, fields in cases.items()
        ]
    }
