"""Request and response models of the invoicing service's API, one module per finance
concept (docs/architecture.md).

Empty until the invoicing issue fills it (bill runs, invoices, statements, tax,
payments, receivables, dunning, revenue, ledger).
"""
