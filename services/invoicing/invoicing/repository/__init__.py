"""SQL adapters of the invoicing service: one repository per finance concept behind the
unit-of-work port of `handlers/` (docs/architecture.md).

Empty until the invoicing issue fills it (bill runs, invoices, statements, tax,
payments, receivables, dunning, revenue, ledger).
"""
