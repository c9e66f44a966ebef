"""What schemathesis may see refused on the mediation-file operations although its request is
schema-valid: rules JSON Schema cannot state about a file's bytes (`test_openapi_fuzz.py` carries them).

Schemathesis has no serializer of its own for a file sent as `text/csv` or NDJSON bytes (it
would send an empty body): they are sent as it sends `application/octet-stream`, the bytes as
generated.
"""

from __future__ import annotations

import schemathesis

for _media_type in ("text/csv", "application/x-ndjson"):
    schemathesis.serializer.alias(_media_type, "application/octet-stream")

FILE_RULES_BEYOND_SCHEMA = {
    "POST /v1/usage/files": {
        "file": "a file holds at least one byte",
        "header": "a CSV file's first line names its columns (docs/rating.md: event_id, meter, quantity, "
        "timestamp, subscription_id or account_id, properties, properties.<name>)",
    },
}
