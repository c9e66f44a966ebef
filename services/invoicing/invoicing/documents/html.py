"""An invoice as an HTML page (Jinja2, every value escaped)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from invoicing.documents.statement_view import StatementDocument
from invoicing.documents.view import InvoiceDocument

# Autoescape on for every template: names, descriptions and notes come from other systems.
_ENVIRONMENT = Environment(
    loader=PackageLoader("invoicing.documents", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(document: InvoiceDocument) -> str:
    """The invoice as a standalone HTML page."""
    return _ENVIRONMENT.get_template("invoice.html.j2").render(doc=document)


def render_statement_html(document: StatementDocument) -> str:
    """A statement of account as a standalone HTML page."""
    return _ENVIRONMENT.get_template("statement.html.j2").render(doc=document)
