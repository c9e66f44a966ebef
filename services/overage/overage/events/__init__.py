"""Domain events of the overage service mapped to `libs.contracts` payloads, one module per
finance concept (docs/architecture.md).

Empty until the overage issue fills it (vendors, overage notices and cases,
vendor payables).
"""
