"""`python -m bench.billrun_worker`: one invoicing process as `python -m invoicing` runs it, with the
bill-run stand-ins wired (`bench.billrun_standins`; BENCH_ACCOUNTS accounts). The benchmark starts
one or two of these on one database and one broker."""

from __future__ import annotations

import os

import uvicorn

from bench.billrun_standins import NumberedAccounts, StandInBilling
from invoicing.app import create_app
from invoicing.bootstrap import bootstrap
from invoicing.config import InvoicingSettings


def main() -> None:
    """Serve invoicing with the stand-ins on its configured host and port."""
    settings = InvoicingSettings()
    accounts = NumberedAccounts(int(os.environ["BENCH_ACCOUNTS"]))
    runtime = bootstrap(settings, account_billing=StandInBilling(), billable_accounts=lambda _uow: accounts)
    uvicorn.run(create_app(runtime=runtime), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
