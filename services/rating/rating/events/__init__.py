"""Domain events of the rating service mapped to `libs.contracts` payloads, one module per
finance concept (docs/architecture.md).

Empty until the rating issue fills it (meters, usage, balances, entitlements).
"""
