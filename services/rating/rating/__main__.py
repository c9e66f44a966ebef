"""`python -m rating`: serve the rating API with uvicorn."""

from __future__ import annotations

import uvicorn

from rating.app import create_app
from rating.config import RatingSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = RatingSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
