"""Tax-rate handlers on the in-memory unit of work: publish, refuse overlaps, end, audit, and the
calculator a bill run loads for a chunk of accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoicing.domain.billing_inputs import AccountTaxStatus
from invoicing.domain.tax import TaxJurisdiction
from invoicing.handlers import tax_rates as handlers
from invoicing.schemas.tax_rates import TaxRateCreate, TaxRateEnd
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.pagination import PageRequest
from tests.invoicing.unit.factories_tax import exempt, line, request, taxable
from tests.invoicing.unit.fakes import FakeInvoicingUnitOfWork, InvoicingStore


def _create(**fields: object) -> TaxRateCreate:
    body: dict[str, object] = {"country": "GB", "rate": "20", "name": "VAT", "effective_from": "2026-01-01"}
    body.update(fields)
    return TaxRateCreate.model_validate(body)


async def test_a_rate_is_published_audited_and_read_back() -> None:
    store = InvoicingStore()
    uow = FakeInvoicingUnitOfWork(store)
    created = await handlers.create_tax_rate(uow=uow, command=_create(region=" Wales ", rate="17.50"))
    assert created.id.startswith("txr_")
    assert (created.region, created.rate, created.effective_to) == ("Wales", Decimal("17.5"), None)
    assert [(a.action, a.entity_id) for a in uow.audits] == [("tax_rate.created", created.id)]
    assert uow.envelopes == []  # no other service reads tax rates
    assert await handlers.get_tax_rate(uow=FakeInvoicingUnitOfWork(store), rate_id=created.id) == created
    with pytest.raises(NotFound):
        await handlers.get_tax_rate(uow=uow, rate_id="txr_missing")


async def test_an_overlapping_rate_is_refused_and_an_ended_one_makes_room() -> None:
    store = InvoicingStore()
    first = await handlers.create_tax_rate(uow=FakeInvoicingUnitOfWork(store), command=_create())
    with pytest.raises(ValidationFailed) as error:
        await handlers.create_tax_rate(
            uow=FakeInvoicingUnitOfWork(store), command=_create(rate="21", effective_from="2026-07-01")
        )
    assert {e.code for e in error.value.errors} == {"overlapping_rate"}
    uow = FakeInvoicingUnitOfWork(store)
    ended = await handlers.end_rate(
        uow=uow, rate_id=first.id, command=TaxRateEnd.model_validate({"effective_to": "2026-07-01"})
    )
    assert ended.effective_to == date(2026, 7, 1)
    assert uow.audits[0].changes == {"effective_to": {"from": None, "to": "2026-07-01"}}
    second = await handlers.create_tax_rate(
        uow=FakeInvoicingUnitOfWork(store), command=_create(rate="21", effective_from="2026-07-01")
    )
    listed = await handlers.list_tax_rates(
        uow=FakeInvoicingUnitOfWork(store), page=PageRequest(), country="GB", as_of=date(2026, 7, 1)
    )
    assert [r.id for r in listed.data] == [second.id]


async def test_the_bill_run_loads_one_chunks_rates_in_one_query() -> None:
    store = InvoicingStore()
    for fields in (
        {"country": "US", "region": "CA", "rate": "7.25", "name": "Sales tax"},
        {"country": "GB", "rate": "20"},
        {"country": "GB", "rate": "17.5", "effective_from": "2008-12-01", "effective_to": "2010-01-01"},
        {"country": "JP", "rate": "10", "name": "Consumption tax"},
    ):
        await handlers.create_tax_rate(uow=FakeInvoicingUnitOfWork(store), command=_create(**fields))
    uow = FakeInvoicingUnitOfWork(store)
    accounts: list[AccountTaxStatus | TaxJurisdiction] = [
        taxable("US", "CA"),
        taxable("GB"),
        exempt(),
        taxable(None),
        TaxJurisdiction("GB"),
    ]
    calculator = await handlers.tax_calculator_for(uow, date(2026, 8, 1), accounts)
    assert uow.tax_rates.in_force_calls == 1
    assert sorted(str(r.rate) for r in calculator.rates) == ["20", "7.25"]  # JP not asked, 17.5 over
    us = await calculator.calculate(request(line("100.00"), account=taxable("US", "CA"), currency="USD"))
    assert (us.total, us.lines[0].rate_name) == (Decimal("7.25"), "Sales tax")
    none = await handlers.tax_calculator_for(
        FakeInvoicingUnitOfWork(store), date(2026, 8, 1), [taxable(None)]
    )
    assert none.rates == ()
