"""SQL adapters of the rating service: one repository per finance concept behind the
unit-of-work port of `handlers/` (docs/architecture.md).

Empty until the rating issue fills it (meters, usage, balances, entitlements).
"""
