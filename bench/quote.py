"""Priced quote lines per second: through the pure pricing engine, and through the catalog's HTTP API.

`quote.engine` — `libs.pricing.rate(spec, quantity)` followed by `apply_discounts(...)` on the
rounded line, over a fixed mix of per_unit, tiered_graduated, tiered_volume, package and
cost_plus specs (with included units, volume and graduated cost books, several currencies) and
quantities from 1 to 5,000, whole and fractional, with none, one or two discounts per line.

Baseline: the same number of `Decimal` multiply-and-quantize steps (quantity x unit price,
rounded half up to the cent) in a plain loop over the same quantities. That is the floor cost of
exact money math in Python — no engine can price a line for less than one of them — so the
ratio says how many such floors one priced line costs (validation, tiers, discounts, the
result objects), and it moves when the engine gets slower, not when the machine does.

`quote.http` — the catalog service's `POST /v1/quotes`, `lines_per_quote` items a quote over
the same five pricing models (prices, a cost book and discounts created through the API first),
sent one after the other in-process through `httpx.ASGITransport` after the app's lifespan ran
(migrations on a SQLite file, bus off). It is everything a CRM's quote costs the service:
parsing, auth, the look-ups of each line's price version, product and cost book, the engine,
saving the quote with its audit row and outbox event, and the response.

Baseline: `GET /healthz` requests/s of the same app through the same transport and client —
the HTTP floor (ASGI, middleware, routing, JSON) that any request pays. The ratio is quote lines
per second over bare requests per second: above 1 means a line costs less than a request.

Subject and baseline run in turns, each keeping its best run, so both see the same load on a
shared machine; the engine's runs last at least a quarter of a second each.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.report import Figure, compare_per_second, per_second
from catalog.app import create_app
from catalog.config import CatalogSettings
from libs.contracts.vocabulary import PricingModel, TierMode
from libs.pricing import CostBook, Discount, DiscountKind, PriceSpec, Tier, apply_discounts, rate

DEFAULT_ENGINE_LINES = 20_000
DEFAULT_HTTP_QUOTES = 20
DEFAULT_LINES_PER_QUOTE = 50
DEFAULT_HEALTH_REQUESTS = 1_000
RUNS = 5
WARM_UP_REQUESTS = 3
# Valid only inside this process (the app is reached through its ASGI transport, no socket).
BENCH_API_KEY = "bench-admin-0123456789abcdef0123"
AS_OF = "2026-03-01"
CENT = Decimal("0.01")
SEED = 20_260_301


def _tiers(*bands: tuple[str | None, str, str]) -> tuple[Tier, ...]:
    return tuple(
        Tier(
            up_to=Decimal(up_to) if up_to is not None else None,
            unit_price=Decimal(price),
            flat_fee=Decimal(fee),
        )
        for up_to, price, fee in bands
    )


SPECS: tuple[PriceSpec, ...] = (
    PriceSpec(PricingModel.PER_UNIT, "USD", unit_price=Decimal("12.50")),
    PriceSpec(
        PricingModel.PER_UNIT, "EUR", unit_price=Decimal("0.004275"), included_quantity=Decimal("1000")
    ),
    PriceSpec(
        PricingModel.TIERED_GRADUATED,
        "USD",
        tiers=_tiers(("100", "10", "0"), ("1000", "8.5", "0"), (None, "6.25", "0")),
        included_quantity=Decimal("10"),
    ),
    PriceSpec(
        PricingModel.TIERED_VOLUME,
        "USD",
        tiers=_tiers(("50", "20", "0"), ("500", "17.5", "100"), (None, "15", "250")),
    ),
    PriceSpec(PricingModel.PACKAGE, "GBP", unit_price=Decimal("45"), package_size=Decimal("10")),
    PriceSpec(
        PricingModel.COST_PLUS,
        "USD",
        cost_book=CostBook(
            tiers=_tiers(("249", "7.20", "0"), ("999", "6.40", "0"), (None, "5.10", "0")),
            mode=TierMode.VOLUME,
            markup_percent=Decimal("18"),
        ),
    ),
    PriceSpec(
        PricingModel.COST_PLUS,
        "JPY",
        cost_book=CostBook(
            tiers=_tiers(("100", "900", "0"), (None, "750", "0")),
            mode=TierMode.GRADUATED,
            markup_percent=Decimal("12.5"),
        ),
    ),
)

DISCOUNT_SETS: tuple[tuple[Discount, ...], ...] = (
    (),
    (Discount(DiscountKind.PERCENT, Decimal("10"), threshold_percent=Decimal("15")),),
    (
        Discount(DiscountKind.PERCENT, Decimal("12.5"), threshold_percent=Decimal("20")),
        Discount(DiscountKind.AMOUNT, Decimal("25")),
    ),
)


@dataclass(frozen=True)
class QuoteLine:
    """One line to price: a spec, a quantity and the discounts on it."""

    spec: PriceSpec
    quantity: Decimal
    discounts: tuple[Discount, ...]


def _headline_price(spec: PriceSpec) -> Decimal:
    """The one unit price a naive pricer would multiply by (for the baseline)."""
    if spec.unit_price is not None:
        return spec.unit_price
    tiers = spec.tiers or (spec.cost_book.tiers if spec.cost_book else ())
    return tiers[0].unit_price


def quote_lines(count: int, *, seed: int = SEED) -> list[QuoteLine]:
    """A reproducible mix of `count` lines over every spec, quantity range and discount set."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        whole = rng.randint(1, 5_000)
        quantity = Decimal(whole) if i % 4 else Decimal(whole) + Decimal(rng.randint(1, 99)) / 100
        lines.append(QuoteLine(SPECS[i % len(SPECS)], quantity, DISCOUNT_SETS[i % len(DISCOUNT_SETS)]))
    return lines


def price_lines(lines: Sequence[QuoteLine]) -> Decimal:
    """Price and discount every line with the engine; returns the net total (so nothing is idle)."""
    total = Decimal(0)
    for line in lines:
        charge = rate(line.spec, line.quantity)
        total += apply_discounts(charge.rounded_amount, line.discounts, line.spec.currency).net_amount
    return total


def multiply_and_quantize(pairs: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    """The baseline: one exact multiply and half-up quantize to the cent per line."""
    total = Decimal(0)
    for quantity, price in pairs:
        total += (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
    return total


def measure_engine(lines: int = DEFAULT_ENGINE_LINES) -> Figure:
    """Lines/s through the pricing engine against Decimal multiply + quantize per second."""
    mix = quote_lines(lines)
    pairs = [(line.quantity, _headline_price(line.spec)) for line in mix]
    engine, floor = compare_per_second(lines, lambda: price_lines(mix), lambda: multiply_and_quantize(pairs))
    return Figure("quote.engine", engine, "lines/s", floor, "mul+quantize/s", "Decimal multiply + quantize")


@asynccontextmanager
async def catalog_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog app with its lifespan run (migrations, bus off) and an admin client bound to it."""
    settings = CatalogSettings(
        environment="test",
        database_url=database_url,
        bus_enabled=False,
        kafka_bootstrap_servers="127.0.0.1:1",
        api_keys=f"admin:{BENCH_API_KEY}",
        # Nothing is logged per request; this only keeps start-up lines out of the table.
        log_level="WARNING",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://catalog.bench",
            headers={"Authorization": f"Bearer {BENCH_API_KEY}"},
            timeout=30,
        ) as client:
            yield client


async def _created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    """POST a setup body that must succeed; returns the new id."""
    response = await client.post(path, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")
    return str(response.json()["id"])


def _product(sku: str, name: str, unit: str, **extra: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": name,
        "kind": "license",
        "unit_of_measure": unit,
        "license_type": "subscription",
        "revenue_rule": "ratable",
        "tax_code": "SW050000",
        **extra,
    }


def _price(product_id: str, model: str, **terms: Any) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "currency": "USD",
        "charge_type": "recurring",
        "billing_period": "monthly",
        "timing": "in_advance",
        "model": model,
        "effective_from": "2026-01-01",
        **terms,
    }


def _tier_bodies(*bands: tuple[str | None, str, str]) -> list[dict[str, Any]]:
    return [{"up_to": up_to, "unit_price": price, "flat_fee": fee} for up_to, price, fee in bands]


async def seed_catalog(client: httpx.AsyncClient) -> tuple[list[str], list[str]]:
    """Create one USD price per pricing model and three discounts; returns their ids."""
    book = await _created(
        client,
        "/v1/vendor-cost-books",
        {
            "vendor_id": "ven_bench",
            "name": "Bench seats",
            "currency": "USD",
            "mode": "volume",
            "markup_percent": "18",
            "tiers": _tier_bodies(("249", "7.20", "0"), ("999", "6.40", "0"), (None, "5.10", "0")),
            "effective_from": "2026-01-01",
        },
    )
    terms: list[tuple[str, dict[str, Any]]] = [
        ("per_unit", {"unit_price": "12.50"}),
        (
            "tiered_graduated",
            {
                "tiers": _tier_bodies(("100", "10", "0"), ("1000", "8.5", "0"), (None, "6.25", "0")),
                "included_quantity": "10",
            },
        ),
        (
            "tiered_volume",
            {"tiers": _tier_bodies(("50", "20", "0"), ("500", "17.5", "100"), (None, "15", "250"))},
        ),
        ("package", {"unit_price": "45", "package_size": "10"}),
        ("cost_plus", {"cost_book_id": book}),
    ]
    price_ids = []
    for index, (model, model_terms) in enumerate(terms):
        extra = {"vendor_id": "ven_bench"} if model == "cost_plus" else {}
        product = await _created(
            client, "/v1/products", _product(f"BENCH-{index}", f"Bench {model}", "seat", **extra)
        )
        price_ids.append(await _created(client, "/v1/prices", _price(product, model, **model_terms)))
    discounts = [
        {"name": "Partner 10%", "kind": "percent", "value": "10", "approval_threshold_percent": "15"},
        {"name": "Deal 12.5%", "kind": "percent", "value": "12.5", "approval_threshold_percent": "20"},
        {"name": "Launch credit", "kind": "amount", "value": "25", "currency": "USD"},
    ]
    discount_ids = [await _created(client, "/v1/discounts", body) for body in discounts]
    return price_ids, discount_ids


def quote_bodies(
    count: int,
    lines_per_quote: int,
    price_ids: Sequence[str],
    discount_ids: Sequence[str],
    *,
    seed: int = SEED,
) -> list[dict[str, Any]]:
    """`count` quote requests with the same mix of models, quantities and discounts as the engine's."""
    rng = random.Random(seed)
    discount_sets = [[], discount_ids[:1], discount_ids[1:3]]
    bodies = []
    for _ in range(count):
        items = []
        for i in range(lines_per_quote):
            whole = rng.randint(1, 5_000)
            quantity = str(whole) if i % 4 else f"{whole}.{rng.randint(1, 99):02d}"
            items.append(
                {
                    "price_id": price_ids[i % len(price_ids)],
                    "quantity": quantity,
                    "discount_ids": list(discount_sets[i % len(discount_sets)]),
                }
            )
        bodies.append({"currency": "USD", "as_of": AS_OF, "items": items})
    return bodies


async def _post_quotes(client: httpx.AsyncClient, bodies: Sequence[dict[str, Any]]) -> float:
    """Seconds to have every quote priced and saved, one request after the other."""
    started = time.perf_counter()
    for body in bodies:
        response = await client.post("/v1/quotes", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"POST /v1/quotes answered {response.status_code}: {response.text}")
    return time.perf_counter() - started


async def _get_health(client: httpx.AsyncClient, requests: int) -> float:
    """Seconds for `requests` sequential `GET /healthz`."""
    started = time.perf_counter()
    for _ in range(requests):
        response = await client.get("/healthz")
        if response.status_code != 200:
            raise RuntimeError(f"GET /healthz answered {response.status_code}: {response.text}")
    return time.perf_counter() - started


async def measure_http(
    quotes: int = DEFAULT_HTTP_QUOTES,
    *,
    lines_per_quote: int = DEFAULT_LINES_PER_QUOTE,
    health_requests: int = DEFAULT_HEALTH_REQUESTS,
) -> Figure:
    """Quote lines/s through `POST /v1/quotes` against `GET /healthz` requests/s, best of 5 runs each."""
    with tempfile.TemporaryDirectory(prefix="bench-quote-") as tmp:
        async with catalog_client(f"sqlite+aiosqlite:///{Path(tmp) / 'catalog.db'}") as client:
            price_ids, discount_ids = await seed_catalog(client)
            bodies = quote_bodies(quotes, lines_per_quote, price_ids, discount_ids)
            await _post_quotes(client, bodies[:WARM_UP_REQUESTS])
            await _get_health(client, WARM_UP_REQUESTS)
            quote_s = health_s = float("inf")
            for _ in range(RUNS):  # in turns, so both see the same load on a shared machine
                quote_s = min(quote_s, await _post_quotes(client, bodies))
                health_s = min(health_s, await _get_health(client, health_requests))
    return Figure(
        "quote.http",
        per_second(quotes * lines_per_quote, quote_s),
        "lines/s",
        per_second(health_requests, health_s),
        "requests/s",
        "GET /healthz, same transport",
    )


def run(
    lines: int = DEFAULT_ENGINE_LINES,
    *,
    quotes: int = DEFAULT_HTTP_QUOTES,
    lines_per_quote: int = DEFAULT_LINES_PER_QUOTE,
    health_requests: int = DEFAULT_HEALTH_REQUESTS,
) -> list[Figure]:
    """The quote benchmarks: the pure engine, then the catalog's HTTP API."""
    engine = measure_engine(lines)
    http = asyncio.run(measure_http(quotes, lines_per_quote=lines_per_quote, health_requests=health_requests))
    return [engine, http]
