"""The catalog, as provisioning sees it: products, prices, discounts and quotes over REST.

Provisioning never imports catalog code (services only talk over the wire). `CatalogClient` is
the seam `bootstrap` wires: `HttpCatalogClient` in production (httpx against
`settings.catalog_url`), an in-memory fake in unit tests, and the real catalog app through
`httpx.ASGITransport` in integration tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import httpx
from pydantic import ValidationError

from libs.contracts.catalog_api import (
    CatalogDiscountAnswer,
    CatalogPriceAnswer,
    CatalogProductAnswer,
    CatalogQuoteAnswer,
)
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType, ProductKind
from libs.platform.errors import DomainError
from libs.platform.logging import get_logger

log = get_logger("catalog_client")


class CatalogUnavailable(DomainError):
    """The catalog could not answer (unreachable, timed out or failed): 503, try again later."""

    status = 503
    title = "Service unavailable"
    code = "catalog_unavailable"

    def __init__(self, detail: str = "catalog unavailable") -> None:
        super().__init__(detail)


class CatalogRejected(Exception):
    """The catalog refused a request as invalid (4xx); `errors` are its field problems."""

    def __init__(self, status: int, detail: str, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)


@dataclass(frozen=True)
class CatalogProduct:
    """What provisioning needs of a product."""

    id: str
    sku: str | None
    name: str
    kind: ProductKind | None
    license_type: LicenseType | None
    vendor_id: str | None = None


@dataclass(frozen=True)
class CatalogPrice:
    """The price version in force on a date."""

    id: str
    product_id: str
    currency: str
    version: int
    charge_type: ChargeType | None
    billing_period: BillingFrequency | None
    timing: BillingTiming | None


@dataclass(frozen=True)
class CatalogDiscount:
    """A discount and the percent off above which an order needs approval."""

    id: str
    name: str
    kind: str
    value: Decimal
    approval_threshold_percent: Decimal | None
    product_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuoteItem:
    """One item to price."""

    price_id: str
    quantity: Decimal
    discount_ids: tuple[str, ...] = ()
    term_months: int | None = None
    """The line's term: a price billed per term is priced for the whole of it."""


@dataclass(frozen=True)
class QuotedDiscount:
    """One discount applied to a quoted line."""

    discount_id: str
    name: str
    amount: Decimal


@dataclass(frozen=True)
class QuotedLine:
    """A priced line of a quote."""

    line_number: int
    product_id: str
    price_id: str
    price_version: int
    quantity: Decimal
    unit_price: Decimal
    list_amount: Decimal
    discounts: tuple[QuotedDiscount, ...]
    discount_amount: Decimal
    net_amount: Decimal
    effective_percent_off: Decimal
    needs_approval: bool


@dataclass(frozen=True)
class Quote:
    """The catalog's answer to "what do these items cost"."""

    id: str | None
    lines: tuple[QuotedLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    needs_approval: bool


class CatalogClient(Protocol):
    """The catalog questions provisioning asks; `None` means "no such id"."""

    async def get_product(self, product_id: str) -> CatalogProduct | None:
        """The product, or None when the catalog does not know it."""
        ...

    async def get_price(self, price_id: str, *, as_of: date) -> CatalogPrice | None:
        """The price version in force on `as_of`, or None."""
        ...

    async def get_discount(self, discount_id: str) -> CatalogDiscount | None:
        """The discount, or None."""
        ...

    async def quote(self, *, currency: str, as_of: date, items: Sequence[QuoteItem]) -> Quote:
        """Price the items in one call; raises CatalogRejected when the catalog refuses them."""
        ...


def product_from_json(data: dict[str, Any]) -> CatalogProduct:
    """Parse `GET /v1/products/{id}` (validated against the contract: ValidationError if malformed)."""
    answer = CatalogProductAnswer.model_validate(data)
    return CatalogProduct(
        id=answer.id,
        sku=answer.sku,
        name=answer.name,
        kind=answer.kind,
        license_type=answer.license_type,
        vendor_id=answer.vendor_id,
    )


def price_from_json(data: dict[str, Any]) -> CatalogPrice:
    """Parse `GET /v1/prices/{id}` (validated against the contract)."""
    answer = CatalogPriceAnswer.model_validate(data)
    return CatalogPrice(
        id=answer.id,
        product_id=answer.product_id,
        currency=answer.currency,
        version=answer.version,
        charge_type=answer.charge_type,
        billing_period=answer.billing_period,
        timing=answer.timing,
    )


def discount_from_json(data: dict[str, Any]) -> CatalogDiscount:
    """Parse `GET /v1/discounts/{id}` (validated against the contract)."""
    answer = CatalogDiscountAnswer.model_validate(data)
    return CatalogDiscount(
        id=answer.id,
        name=answer.name,
        kind=answer.kind,
        value=answer.value,
        # No threshold: the discount is pre-approved (libs.pricing.needs_approval).
        approval_threshold_percent=answer.approval_threshold_percent,
        product_ids=tuple(answer.product_ids),
    )


def quote_from_json(data: dict[str, Any]) -> Quote:
    """Parse `POST /v1/quotes` (validated against the contract)."""
    answer = CatalogQuoteAnswer.model_validate(data)
    return Quote(
        id=answer.id,
        lines=tuple(
            QuotedLine(
                line_number=line.line_number,
                product_id=line.product_id,
                price_id=line.price_id,
                price_version=line.price_version,
                quantity=line.quantity,
                unit_price=line.unit_price,
                list_amount=line.list_amount,
                discounts=tuple(QuotedDiscount(d.discount_id, d.name, d.amount) for d in line.discounts),
                discount_amount=line.discount_amount,
                net_amount=line.net_amount,
                effective_percent_off=line.effective_percent_off,
                needs_approval=line.needs_approval,
            )
            for line in answer.lines
        ),
        subtotal=answer.subtotal,
        discount_total=answer.discount_total,
        total=answer.total,
        needs_approval=answer.needs_approval,
    )


class HttpCatalogClient:
    """`CatalogClient` over the catalog's REST API with an API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            transport=transport,
            timeout=timeout_s,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("catalog.unreachable", url=url, error=type(exc).__name__)
            raise CatalogUnavailable() from exc
        if response.status_code >= 500 or response.status_code in {401, 403, 429}:
            # Our own key being refused is as much an outage for the caller as a 5xx.
            log.warning("catalog.failed", url=url, status=response.status_code)
            raise CatalogUnavailable()
        return response

    async def _get_json(self, url: str, **params: str) -> dict[str, Any] | None:
        response = await self._send("GET", url, params=params or None)
        if response.status_code in {404, 422}:
            return None
        if response.status_code >= 400:
            raise CatalogUnavailable()
        return self._json(response)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise CatalogUnavailable("catalog sent a malformed answer") from exc
        if not isinstance(data, dict):
            raise CatalogUnavailable("catalog sent a malformed answer")
        return data

    async def get_product(self, product_id: str) -> CatalogProduct | None:
        """`GET /v1/products/{id}`."""
        data = await self._get_json(f"/v1/products/{_quote_path(product_id)}")
        return None if data is None else _parsed(product_from_json, data)

    async def get_price(self, price_id: str, *, as_of: date) -> CatalogPrice | None:
        """`GET /v1/prices/{id}?as_of=`."""
        data = await self._get_json(f"/v1/prices/{_quote_path(price_id)}", as_of=as_of.isoformat())
        return None if data is None else _parsed(price_from_json, data)

    async def get_discount(self, discount_id: str) -> CatalogDiscount | None:
        """`GET /v1/discounts/{id}`."""
        data = await self._get_json(f"/v1/discounts/{_quote_path(discount_id)}")
        return None if data is None else _parsed(discount_from_json, data)

    async def quote(self, *, currency: str, as_of: date, items: Sequence[QuoteItem]) -> Quote:
        """`POST /v1/quotes`."""
        body = {
            "currency": currency,
            "as_of": as_of.isoformat(),
            "items": [
                {
                    "price_id": item.price_id,
                    "quantity": format(item.quantity, "f"),
                    "discount_ids": list(item.discount_ids),
                    **({} if item.term_months is None else {"term_months": item.term_months}),
                }
                for item in items
            ],
        }
        response = await self._send("POST", "/v1/quotes", json=body)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            problem = problem if isinstance(problem, dict) else {}
            raise CatalogRejected(
                response.status_code,
                str(problem.get("detail") or "the catalog refused the quote"),
                [e for e in problem.get("errors") or () if isinstance(e, dict)],
            )
        return _parsed(quote_from_json, self._json(response))


def _quote_path(value: str) -> str:
    return httpx.URL(path=value).raw_path.decode().replace("/", "%2F").replace("?", "%3F")


def _parsed(parse: Any, data: dict[str, Any]) -> Any:
    # A catalog answer that breaks its contract (libs/contracts/catalog_api.py) is the
    # catalog failing, not a default: the caller gets a 503 and nothing is priced from it.
    try:
        return parse(data)
    except (ValidationError, KeyError, TypeError, ValueError) as exc:
        log.warning("catalog.malformed_answer", error=str(exc)[:500])
        raise CatalogUnavailable("catalog sent a malformed answer") from exc
