"""Use cases of tax rates: publish, end, read, list — the port of their repository — and the
calculator a bill run taxes a chunk of accounts with."""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable
from datetime import date
from typing import TYPE_CHECKING

from invoicing.domain.billing_inputs import AccountTaxStatus
from invoicing.domain.tax import (
    RateTableTaxCalculator,
    TaxJurisdiction,
    TaxRate,
    TaxRateKey,
    check_no_overlap,
    check_tax_rate,
    end_tax_rate,
    region_key,
)
from invoicing.schemas.tax_rates import TaxRateCreate, TaxRateEnd, TaxRatePublic, tax_rate_public
from libs.platform.errors import NotFound
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


class TaxRateRepository(abc.ABC):
    """Published tax rates, by id, by key and by country in force on a date."""

    @abc.abstractmethod
    async def add(self, rate: TaxRate) -> None:
        """Stage a new rate, or the new end of a stored one."""

    @abc.abstractmethod
    async def find(self, rate_id: str) -> TaxRate | None:
        """The rate with this id, if any."""

    @abc.abstractmethod
    async def of_key(self, key: TaxRateKey) -> list[TaxRate]:
        """Every rate of this key, after locking the key until the transaction ends (so two
        overlapping rates published at once cannot both pass the overlap check)."""

    @abc.abstractmethod
    async def in_force(self, countries: Collection[str], on: date) -> list[TaxRate]:
        """Every rate of these countries in force on `on` (one query)."""

    @abc.abstractmethod
    async def page(
        self,
        page: PageRequest,
        *,
        country: str | None,
        region: str | None,
        tax_code: str | None,
        as_of: date | None,
    ) -> Page[TaxRate]:
        """A page of rates ordered by id, optionally of one country, region (compared as
        `region_key`), tax code, or only those in force on `as_of`."""

    async def get(self, rate_id: str) -> TaxRate:
        """The rate with this id, or NotFound (404)."""
        rate = await self.find(rate_id)
        if rate is None:
            raise NotFound("tax rate", rate_id)
        return rate


async def create_tax_rate(*, uow: InvoicingUnitOfWork, command: TaxRateCreate) -> TaxRatePublic:
    """Publish a rate; one overlapping another of its jurisdiction and tax code is refused (422)."""
    now = uow.clock.now()
    rate = TaxRate(
        id=new_id("txr"),
        country=command.country,
        region=command.region.strip() if command.region is not None else None,
        tax_code=command.tax_code,
        rate=command.rate,
        name=command.name,
        effective_from=command.effective_from,
        effective_to=command.effective_to,
        created_at=now,
        updated_at=now,
    )
    check_tax_rate(rate)
    check_no_overlap(rate, await uow.tax_rates.of_key(rate.key))
    await uow.tax_rates.add(rate)
    public = tax_rate_public(rate)
    uow.audit("tax_rate.created", "tax_rate", rate.id, public.model_dump(mode="json"))
    await uow.commit()
    return public


async def end_rate(*, uow: InvoicingUnitOfWork, rate_id: str, command: TaxRateEnd) -> TaxRatePublic:
    """End a rate on a date (exclusive): the one change a published rate takes (only ever shorter)."""
    rate = await uow.tax_rates.get(rate_id)
    ended = end_tax_rate(rate, command.effective_to, now=uow.clock.now())
    await uow.tax_rates.add(ended)
    uow.audit(
        "tax_rate.ended",
        "tax_rate",
        rate.id,
        {
            "effective_to": {
                "from": rate.effective_to.isoformat() if rate.effective_to else None,
                "to": command.effective_to.isoformat(),
            }
        },
    )
    await uow.commit()
    return tax_rate_public(ended)


async def get_tax_rate(*, uow: InvoicingUnitOfWork, rate_id: str) -> TaxRatePublic:
    """One rate."""
    return tax_rate_public(await uow.tax_rates.get(rate_id))


async def list_tax_rates(
    *,
    uow: InvoicingUnitOfWork,
    page: PageRequest,
    country: str | None = None,
    region: str | None = None,
    tax_code: str | None = None,
    as_of: date | None = None,
) -> Page[TaxRatePublic]:
    """A page of rates, filtered."""
    found = await uow.tax_rates.page(
        page, country=country, region=region_key(region), tax_code=tax_code, as_of=as_of
    )
    return Page[TaxRatePublic](
        data=[tax_rate_public(rate) for rate in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


async def tax_calculator_for(
    uow: InvoicingUnitOfWork,
    invoice_date: date,
    jurisdictions: Iterable[AccountTaxStatus | TaxJurisdiction],
) -> RateTableTaxCalculator:
    """The rate table a bill run taxes one chunk of accounts with on `invoice_date`.

    Loads, in one query, every rate in force that day for the countries of the chunk's tax
    addresses (pass each account's `AccountTaxStatus`); the calculator answers only for that date.
    """
    countries = {place.country for place in jurisdictions if place.country}
    rates = await uow.tax_rates.in_force(countries, invoice_date) if countries else []
    return RateTableTaxCalculator(rates, valid_on=invoice_date)
