"""`python -m provisioning`: serve the provisioning API with uvicorn."""

from __future__ import annotations

from libs.platform.service import serve
from provisioning.app import create_app
from provisioning.config import ProvisioningSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = ProvisioningSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
