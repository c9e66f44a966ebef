"""`python -m invoicing`: serve the invoicing API with uvicorn."""

from __future__ import annotations

import uvicorn

from invoicing.app import create_app
from invoicing.config import InvoicingSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = InvoicingSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
