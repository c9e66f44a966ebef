"""Use cases of the rating service, one module per finance concept, each working through
the unit of work (docs/architecture.md).

Empty until the rating issue fills it (meters, usage, balances, entitlements).
"""
