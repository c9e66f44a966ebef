"""Use cases of the invoicing service, one module per finance concept, each working through
the unit of work (docs/architecture.md).

Empty until the invoicing issue fills it (bill runs, invoices, statements, tax,
payments, receivables, dunning, revenue, ledger).
"""
