"""Settings of the invoicing service."""

from __future__ import annotations

from libs.platform.settings import ServiceSettings


class InvoicingSettings(ServiceSettings):
    """Environment-driven settings; DATABASE_URL defaults to var/invoicing.db."""

    service_name: str = "invoicing"
    port: int = 8004
    # Who issues the invoices: printed at the top of every invoice document (HTML and PDF).
    issuer_name: str = "Billing & Collections Engine (set ISSUER_NAME)"
    issuer_address: str = ""
    """Postal address, one line per line ("\n" between them)."""
    issuer_tax_id: str = ""
    issuer_email: str = ""
    issuer_payment_instructions: str = ""
    """How to pay (bank account, remittance address), printed under the totals."""
