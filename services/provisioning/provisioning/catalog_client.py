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
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx

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
    kind: str | None
    license_type: str | None
    vendor_id: str | None = None


@dataclass(frozen=True)
class CatalogPrice:
    """The price version in force on a date."""

    id: str
    product_id: str
    currency: str
    version: int
    charge_type: str | None
    billing_period: str | None
    timing: str | None


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


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise CatalogUnavailable("catalog sent a malformed number") from exc


def product_from_json(data: dict[str, Any]) -> CatalogProduct:
    """Parse `GET /v1/products/{id}`."""
    return CatalogProduct(
        id=str(data["id"]),
        sku=data.get("sku"),
        name=str(data.get("name") or data["id"]),
        kind=data.get("kind"),
        license_type=data.get("license_type"),
        vendor_id=data.get("vendor_id"),
    )


def price_from_json(data: dict[str, Any]) -> CatalogPrice:
    """Parse `GET /v1/prices/{id}`."""
    return CatalogPrice(
        id=str(data["id"]),
        product_id=str(data["product_id"]),
        currency=str(data["currency"]),
        version=int(data.get("version") or 1),
        charge_type=data.get("charge_type"),
        billing_period=data.get("billing_period"),
        timing=data.get("timing"),
    )


def discount_from_json(data: dict[str, Any]) -> CatalogDiscount:
    """Parse `GET /v1/discounts/{id}`."""
    threshold = data.get("approval_threshold_percent")
    return CatalogDiscount(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        kind=str(data.get("kind") or "percent"),
        value=_dec(data.get("value", "0")),
        # No threshold: the discount is pre-approved (libs.pricing.needs_approval).
        approval_threshold_percent=_dec(threshold) if threshold is not None else None,
        product_ids=tuple(data.get("product_ids") or ()),
    )


def quote_from_json(data: dict[str, Any]) -> Quote:
    """Parse `POST /v1/quotes`."""
    lines = tuple(
        QuotedLine(
            line_number=int(line.get("line_number", index + 1)),
            product_id=str(line["product_id"]),
            price_id=str(line["price_id"]),
            price_version=int(line.get("price_version") or 1),
            quantity=_dec(line["quantity"]),
            unit_price=_dec(line["unit_price"]),
            list_amount=_dec(line["list_amount"]),
            discounts=tuple(
                QuotedDiscount(str(d["discount_id"]), str(d.get("name") or ""), _dec(d["amount"]))
                for d in line.get("discounts") or ()
            ),
            discount_amount=_dec(line.get("discount_amount", "0")),
            net_amount=_dec(line["net_amount"]),
            effective_percent_off=_dec(line.get("effective_percent_off", "0")),
            needs_approval=bool(line.get("needs_approval", False)),
        )
        for index, line in enumerate(data.get("lines") or ())
    )
    return Quote(
        id=data.get("id"),
        lines=lines,
        subtotal=_dec(data.get("subtotal", "0")),
        discount_total=_dec(data.get("discount_total", "0")),
        total=_dec(data.get("total", "0")),
        needs_approval=bool(data.get("needs_approval", False)),
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
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogUnavailable("catalog sent a malformed answer") from exc
