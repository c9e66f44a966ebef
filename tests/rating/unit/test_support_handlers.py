"""The support handlers on an in-memory unit of work: what they commit, audit and emit, in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from libs.contracts.catalog import ContractTemplateChanged
from libs.platform.clock import FixedClock
from libs.platform.errors import Conflict, NotFound
from rating.domain.support_contracts import HolderType
from rating.handlers import support_contracts as contracts
from rating.handlers import support_requests as requests
from rating.schemas.support_contracts import SupportContractCreate
from rating.schemas.support_requests import SupportRequestClose, SupportRequestCreate, TimeEntryCreate
from tests.rating.unit.factories_rating import account, subscription
from tests.rating.unit.fakes import FakeRatingUnitOfWork

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def template(template_id: str, kind: str, **terms: object) -> ContractTemplateChanged:
    return ContractTemplateChanged(
        template_id=template_id,
        change="created",
        name=kind,
        kind=kind,
        on_expiry=str(terms.pop("on_expiry", "ignore")),
        product_id="prod_support",
        **terms,
    )


@pytest.fixture
def uow() -> FakeRatingUnitOfWork:
    uow = FakeRatingUnitOfWork(clock=FixedClock(NOW))
    uow.store.accounts["acct_1"] = account(currency="EUR")
    uow.store.subscriptions["sub_1"] = subscription(currency="EUR")
    return uow


async def test_an_older_template_event_changes_nothing(uow: FakeRatingUnitOfWork) -> None:
    hours_40 = template("ctpl_1", "support_hours", hours=Decimal(40))
    assert await contracts.apply_contract_template(uow=uow, template=hours_40, occurred_at=NOW)
    hours_80 = template("ctpl_1", "support_hours", hours=Decimal(80))
    earlier = NOW - timedelta(minutes=1)
    assert not await contracts.apply_contract_template(uow=uow, template=hours_80, occurred_at=earlier)
    assert uow.support_contracts.templates["ctpl_1"].hours == 40
    assert uow.commits == 1


async def test_a_request_nobody_covers_opens_and_charges_a_per_incident_contract(
    uow: FakeRatingUnitOfWork,
) -> None:
    await contracts.apply_contract_template(
        uow=uow, template=template("ctpl_inc", "per_incident"), occurred_at=NOW
    )
    command = SupportRequestCreate(subscription_id="sub_1", summary="Down", opened_at=NOW)
    opened = await requests.open_support_request(uow=uow, command=command)
    assert opened.coverage.step == "per_incident"
    assert uow.event_types == [
        "support.contract_changed",
        "support.request_opened",
        "support.incident_charged",
    ]
    charge = uow.envelopes[-1]
    assert (charge.key, charge.payload["currency"], charge.payload["charged_on"]) == (
        "acct_1",
        "EUR",
        "2026-11-30",
    )
    assert [a.action for a in uow.audits] == ["support_request.opened"]

    closing = SupportRequestClose(closed_at=NOW + timedelta(hours=2))
    await requests.close_support_request(uow=uow, request_id=opened.id, command=closing)
    assert uow.event_types[-2:] == ["support.contract_changed", "support.request_closed"]
    assert uow.envelopes[-2].payload["change"] == "ended"
    with pytest.raises(Conflict):
        await requests.close_support_request(uow=uow, request_id=opened.id, command=closing)


async def test_examples_5_rollover_emits_each_drawdown_then_the_time(uow: FakeRatingUnitOfWork) -> None:
    for event in (
        template("ctpl_tl", "time_limited", period_months=12, hours=Decimal(40), on_expiry="rollover"),
        template("ctpl_hours", "support_hours", hours=Decimal(10)),
    ):
        await contracts.apply_contract_template(uow=uow, template=event, occurred_at=NOW)
    start = date(2026, 1, 1)
    time_limited = await contracts.open_support_contract(
        uow=uow,
        command=SupportContractCreate(
            template_id="ctpl_tl", holder_type=HolderType.SUBSCRIPTION, holder_id="sub_1", starts_on=start
        ),
    )
    hours = await contracts.open_support_contract(
        uow=uow,
        command=SupportContractCreate(
            template_id="ctpl_hours", holder_type=HolderType.ACCOUNT, holder_id="acct_1", starts_on=start
        ),
    )
    uow.support_contracts.contracts[time_limited.id].hours_used = Decimal(38)
    june = datetime(2026, 6, 12, 16, 0, tzinfo=UTC)
    request = await requests.open_support_request(
        uow=uow, command=SupportRequestCreate(subscription_id="sub_1", summary="Slow", opened_at=june)
    )
    before = len(uow.envelopes)
    entry = await requests.log_time(
        uow=uow, request_id=request.id, command=TimeEntryCreate(hours=Decimal(3), logged_at=june)
    )
    assert (entry.covered_hours, entry.rolled_over_hours, entry.uncovered_hours) == (2, 1, 0)
    drawn = uow.envelopes[before:]
    assert [(e.type, e.payload.get("contract_id"), e.payload.get("state")) for e in drawn] == [
        ("support.contract_changed", time_limited.id, "expired"),
        ("support.contract_changed", hours.id, "active"),
        ("support.time_logged", None, None),
    ]
    with pytest.raises(NotFound):
        await requests.log_time(uow=uow, request_id="srq_none", command=TimeEntryCreate(hours=Decimal(1)))
