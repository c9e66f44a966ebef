"""`python -m rating`: serve the rating API with uvicorn."""

from __future__ import annotations

from libs.platform.service import serve
from rating.app import create_app
from rating.config import RatingSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = RatingSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
