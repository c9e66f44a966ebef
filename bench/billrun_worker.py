"""`python -m bench.billrun_worker`: one invoicing process as `python -m invoicing` runs it (the
invoice engine over the read model's accounts), quiet. The benchmark starts one or two of these
on one database and one broker."""

from __future__ import annotations

import uvicorn

from invoicing.app import create_app
from invoicing.bootstrap import bootstrap
from invoicing.config import InvoicingSettings


def main() -> None:
    """Serve invoicing on its configured host and port."""
    settings = InvoicingSettings()
    uvicorn.run(
        create_app(runtime=bootstrap(settings)), host=settings.host, port=settings.port, log_config=None
    )


if __name__ == "__main__":
    main()
