"""Request and response models of the rating service's API, one module per finance
concept (docs/architecture.md).

Empty until the rating issue fills it (meters, usage, balances, entitlements).
"""
