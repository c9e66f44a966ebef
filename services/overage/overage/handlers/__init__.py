"""Use cases of the overage service, one module per finance concept, each working through
the unit of work (docs/architecture.md).

Empty until the overage issue fills it (vendors, overage notices and cases,
vendor payables).
"""
