"""SQL adapters of the overage service: one repository per finance concept behind the
unit-of-work port of `handlers/` (docs/architecture.md).

Empty until the overage issue fills it (vendors, overage notices and cases,
vendor payables).
"""
