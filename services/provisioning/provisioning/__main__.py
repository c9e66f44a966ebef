"""`python -m provisioning`: serve the provisioning API with uvicorn."""

from __future__ import annotations

import uvicorn

from provisioning.app import create_app
from provisioning.config import ProvisioningSettings


def main() -> None:
    """Run the service on its configured host and port."""
    settings = ProvisioningSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
