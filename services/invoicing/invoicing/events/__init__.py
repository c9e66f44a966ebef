"""Domain events of the invoicing service mapped to `libs.contracts` payloads, one module per
finance concept (docs/architecture.md).

Empty until the invoicing issue fills it (bill runs, invoices, statements, tax,
payments, receivables, dunning, revenue, ledger).
"""
