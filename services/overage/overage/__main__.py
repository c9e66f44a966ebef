"""`python -m overage`: serve the overage API with uvicorn."""

from __future__ import annotations

import uvicorn

from overage.app import create_app
from overage.config import OverageSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = OverageSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
