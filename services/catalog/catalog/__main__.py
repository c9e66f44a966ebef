"""`python -m catalog`: serve the catalog API with uvicorn."""

from __future__ import annotations

import uvicorn

from catalog.app import create_app
from catalog.config import CatalogSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = CatalogSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
