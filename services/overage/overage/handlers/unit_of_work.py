"""The port of the overage service's handlers: a unit of work holding one repository per concept.

Handlers see only `OverageUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`overage.repository.unit_of_work`); unit tests give
handlers an in-memory fake.
"""

from __future__ import annotations

from libs.platform.unit_of_work_port import UnitOfWorkPort
from overage.handlers.cases_port import CaseRepository
from overage.handlers.notices_port import NoticeRepository
from overage.handlers.vendors_port import ReadModel, VendorRepository


class OverageUnitOfWork(UnitOfWorkPort):
    """One transaction of an overage use case: its repositories, audit records and events."""

    vendors: VendorRepository
    read_model: ReadModel
    notices: NoticeRepository
    cases: CaseRepository
