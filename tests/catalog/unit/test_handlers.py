"""The catalog's handlers on the fake unit of work: what they stage, emit and refuse — no database."""

from __future__ import annotations

from datetime import date

import pytest

from catalog import handlers
from catalog.schemas.discounts import DiscountCreate
from catalog.schemas.prices import PriceCreate, PriceVersionCreate
from catalog.schemas.products import ProductCreate
from catalog.schemas.quotes import QuoteCreate
from libs.platform.errors import Conflict
from tests.catalog.integration import factories as f
from tests.catalog.unit.fakes import FakeCatalogRepository, FakeCatalogUnitOfWork


@pytest.fixture
def uow() -> FakeCatalogUnitOfWork:
    return FakeCatalogUnitOfWork(FakeCatalogRepository())


async def _product(uow: FakeCatalogUnitOfWork, **overrides: object) -> str:
    return (await handlers.create_product(uow=uow, command=ProductCreate(**f.product(**overrides)))).id


async def _price(uow: FakeCatalogUnitOfWork, product_id: str, unit_price: str = "150.00") -> str:
    command = PriceCreate(**f.per_unit_price(product_id, unit_price))
    return (await handlers.create_price(uow=uow, command=command)).id


async def test_a_new_product_emits_product_changed_and_is_audited(uow: FakeCatalogUnitOfWork) -> None:
    product = await handlers.create_product(uow=uow, command=ProductCreate(**f.product(sku="WFM-SEAT")))

    assert uow.commits == 1
    assert uow.event_types == ["catalog.product_changed"]
    event = uow.envelopes[0]
    assert (event.key, event.payload["change"], event.payload["sku"]) == (product.id, "created", "WFM-SEAT")
    assert [(a.action, a.entity_id) for a in uow.audits] == [("product.created", product.id)]
    assert (await handlers.get_product(uow=uow, product_id=product.id)) == product


async def test_a_new_price_version_closes_the_previous_one(uow: FakeCatalogUnitOfWork) -> None:
    price_id = await _price(uow, await _product(uow))

    published = await handlers.publish_price_version(
        uow=uow,
        price_id=price_id,
        command=PriceVersionCreate(model="per_unit", unit_price="165.00", effective_from=date(2026, 7, 1)),
    )

    first, second = await uow.prices.versions(price_id)
    assert (first.effective_from, first.effective_to) == (date(2026, 1, 1), date(2026, 7, 1))
    assert (second.version, second.effective_from, second.effective_to) == (2, date(2026, 7, 1), None)
    assert (published.version, published.latest_version) == (2, 2)
    assert uow.event_types[-2:] == ["catalog.price_published", "catalog.price_published"]
    assert uow.envelopes[-1].payload["previous_version_effective_to"] == "2026-07-01"
    assert (await handlers.get_price(uow=uow, price_id=price_id, as_of=date(2026, 6, 30))).version == 1


async def test_a_duplicate_sku_is_a_conflict_and_changes_nothing(uow: FakeCatalogUnitOfWork) -> None:
    await _product(uow, sku="DUP-1")
    before = (len(uow.envelopes), len(uow.audits), uow.commits)

    with pytest.raises(Conflict):
        await _product(uow, sku="DUP-1")

    assert (len(uow.envelopes), len(uow.audits), uow.commits) == before


async def test_a_quote_over_a_discount_threshold_needs_approval(uow: FakeCatalogUnitOfWork) -> None:
    price_id = await _price(uow, await _product(uow))
    partner = await handlers.create_discount(
        uow=uow, command=DiscountCreate(**f.discount(value="20", approval_threshold_percent="15"))
    )

    quote = await handlers.create_quote(
        uow=uow, command=QuoteCreate(**f.quote(f.quote_item(price_id, 10, partner.id)))
    )

    # 10 x 150.00 = 1,500.00, 20% off = 300.00: above the 15% threshold.
    assert (quote.lines[0].net_amount, quote.total) == (1200, 1200)
    assert quote.needs_approval is True
    assert "15% approval threshold" in quote.approval_reasons[0]
    assert uow.event_types[-1] == "catalog.quote_created"
    assert uow.envelopes[-1].payload["needs_approval"] is True


async def test_a_promo_code_resolves_to_its_discount(uow: FakeCatalogUnitOfWork) -> None:
    price_id = await _price(uow, await _product(uow))
    await handlers.create_discount(
        uow=uow, command=DiscountCreate(**f.discount(value="5", promo_code="SPRING26"))
    )

    quote = await handlers.create_quote(
        uow=uow, command=QuoteCreate(**f.quote(f.quote_item(price_id, 2), promo_codes=["SPRING26"]))
    )

    assert (quote.lines[0].discount_amount, quote.total, quote.needs_approval) == (15, 285, False)
