"""`python -m catalog`: serve the catalog API with uvicorn."""

from __future__ import annotations

from catalog.app import create_app
from catalog.config import CatalogSettings
from libs.platform.service import serve


def main() -> None:
    """Run the service on its configured host and port."""
    settings = CatalogSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
