"""`python -m invoicing`: serve the invoicing API with uvicorn."""

from __future__ import annotations

from invoicing.app import create_app
from invoicing.config import InvoicingSettings
from libs.platform.service import serve


def main() -> None:
    """Run the service on its configured host and port."""
    settings = InvoicingSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
