"""`python -m overage`: serve the overage API with uvicorn."""

from __future__ import annotations

from libs.platform.service import serve
from overage.app import create_app
from overage.config import OverageSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = OverageSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
