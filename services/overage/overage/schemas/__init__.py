"""Request and response models of the overage service's API, one module per finance
concept (docs/architecture.md).

Empty until the overage issue fills it (vendors, overage notices and cases,
vendor payables).
"""
