"""The catalog's service layer: one handler per use case, each in one unit of work.

Handlers load what a use case needs through the repository, apply the pure rules of
`catalog.domain` (pricing math from `libs.pricing`), stage the change, its audit record and its
event, and commit once. Routes only parse and call one of these.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from catalog.api.schemas import (
    BundleComponentPublic,
    BundleCreate,
    BundlePublic,
    BundleUpdate,
    ContractTemplateCreate,
    ContractTemplatePublic,
    ContractTemplateUpdate,
    CostBookCreate,
    CostBookPublic,
    CostBookVersionCreate,
    DiscountCreate,
    DiscountPublic,
    DiscountUpdate,
    LineDiscountPublic,
    PriceCreate,
    PricePublic,
    PriceTermsIn,
    PriceVersionCreate,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
    QuoteCreate,
    QuoteLinePublic,
    QuotePublic,
    TierIn,
    TierLinePublic,
    TierPublic,
)
from catalog.domain.bundles import BundleComponent, validate_components
from catalog.domain.contract_templates import ContractTerms, validate_contract_terms
from catalog.domain.cost_books import cost_book as build_cost_book
from catalog.domain.discounts import DiscountTerms, validate_discount
from catalog.domain.prices import PriceTerms, check_charge_schedule, validate_price_terms
from catalog.domain.quotes import (
    PriceInForce,
    QuoteCatalog,
    QuotedBundle,
    QuotedProduct,
    QuoteLine,
    RequestedDiscount,
    RequestedItem,
    check_promotions,
    price_quote,
    quote_items,
)
from catalog.domain.versions import (
    NoVersionInForce,
    VersionWindow,
    first_window,
    next_window,
    version_in_force,
)
from catalog.models import (
    Bundle,
    ContractTemplate,
    CostBook,
    CostBookVersion,
    Discount,
    Price,
    PriceVersion,
    Product,
    Quote,
)
from catalog.repository import VERSIONED, CatalogUnitOfWork, entity_name
from libs.contracts.catalog import (
    BundleChanged,
    BundleComponentTerms,
    ContractTemplateChanged,
    CostBookPublished,
    DiscountChanged,
    PricePublished,
    ProductChanged,
    QuoteCreated,
    TierTerms,
)
from libs.contracts.envelope import EventPayload
from libs.platform.db import utcnow
from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.money import round_money
from libs.platform.pagination import Page, PageRequest
from libs.pricing import CostBook as PricingCostBook
from libs.pricing import DiscountKind, PricingModel, Tier, TierMode

R = TypeVar("R")
V = TypeVar("V", PriceVersion, CostBookVersion)
T = TypeVar("T")


def _public_page(rows: Page[R], to_public: Callable[[R], T]) -> Page[T]:
    """A page of rows as their public views."""
    return Page[T](
        data=[to_public(r) for r in rows.data], next_cursor=rows.next_cursor, has_more=rows.has_more
    )


def _today() -> date:
    return utcnow().date()


def _plain(value: Decimal) -> Decimal:
    """The shortest exact form of a decimal (12.00 → 12), as the database gives it back."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def _plain_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else _plain(value)


def _set_fields(row: Any, changes: dict[str, Any], *, nullable: Sequence[str] = ()) -> dict[str, Any]:
    """Apply a PATCH to a row; returns {field: {"before", "after"}} for the audit log."""
    errors = FieldErrors()
    for name, value in changes.items():
        if value is None and name not in nullable:
            errors.add(name, "may not be null; leave it out to keep the current value")
    errors.raise_if_any("The update is invalid")
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        before = getattr(row, name)
        if before != value:
            diff[name] = {"before": before, "after": value}
            setattr(row, name, value)
    return diff


async def _record(
    uow: CatalogUnitOfWork,
    action: str,
    entity_type: str,
    entity_id: str,
    changes: dict[str, Any],
    event: EventPayload,
    *,
    key: str,
) -> None:
    """Audit a change, emit its event and commit it with the rows already staged."""
    uow.audit(f"{entity_type}.{action}", entity_type, entity_id, changes)
    uow.emit(event, key=key)
    await uow.commit()


async def _record_created(
    uow: CatalogUnitOfWork, row: Any, entity_type: str, public: BaseModel, event: EventPayload
) -> None:
    """Stage a new row with its audit record (the public view) and its event, and commit."""
    uow.catalog.add(row)
    await _record(uow, "created", entity_type, row.id, public.model_dump(mode="json"), event, key=row.id)


async def _record_update(
    uow: CatalogUnitOfWork,
    row: Any,
    changes: dict[str, Any],
    *,
    entity_type: str,
    changed: Callable[[Any, str], EventPayload],
    nullable: Sequence[str] = (),
    check: Callable[[Any], None] | None = None,
) -> None:
    """Apply a PATCH, check the result, and commit it with its audit diff and event if anything changed."""
    diff = _set_fields(row, changes, nullable=nullable)
    if check is not None:
        check(row)
    if diff:
        row.updated_at = utcnow()
        uow.catalog.add(row)
        await _record(uow, "updated", entity_type, row.id, diff, changed(row, "updated"), key=row.id)


# --- effective-dated versions (prices, cost books) ----------------------------------------------


async def _next_version(
    uow: CatalogUnitOfWork, model: type[V], owner_id: str, effective_from: date, effective_to: date | None
) -> tuple[Any, V, VersionWindow]:
    """The price or cost book, its latest version and the window of the version to publish next."""
    owner = await uow.catalog.get(VERSIONED[model][0], owner_id)
    latest = (await uow.catalog.versions(model, owner_id))[-1]
    return owner, latest, next_window(latest, effective_from, effective_to)


def _supersede(uow: CatalogUnitOfWork, owner: Any, latest: V, version: V) -> None:
    """Stage a new latest version; the one before ends where it starts."""
    # The one change a published version ever gets: its end, set by its successor.
    latest.effective_to = version.effective_from
    owner.latest_version = version.version
    uow.catalog.add(owner, latest, version)


async def _version_as_of(
    uow: CatalogUnitOfWork, model: type[V], owner_id: str, as_of: date | None
) -> tuple[V, int]:
    """The version in force on `as_of` (404 if none) or the latest one, and the latest version number."""
    owner_model = VERSIONED[model][0]
    owner: Any = await uow.catalog.get(owner_model, owner_id)
    versions = await uow.catalog.versions(model, owner_id)
    if as_of is None:
        return versions[-1], owner.latest_version
    row = version_in_force(versions, as_of, entity=entity_name(owner_model), entity_id=owner_id)
    return row, owner.latest_version


async def _versions_page(
    uow: CatalogUnitOfWork, model: type[V], owner_id: str, page: PageRequest
) -> tuple[Page[V], int]:
    """A page of one price's or cost book's versions, oldest first, and the latest version number."""
    owner_model, owner_column = VERSIONED[model]
    owner: Any = await uow.catalog.get(owner_model, owner_id)
    return await uow.catalog.page(model, page, **{owner_column: owner_id}), owner.latest_version


# --- tiers as stored (JSON text with decimal strings) ------------------------------------------


def _tiers_json(tiers: Sequence[TierIn]) -> str:
    return json.dumps(
        [
            {
                "up_to": None if t.up_to is None else format(_plain(t.up_to), "f"),
                "unit_price": format(_plain(t.unit_price), "f"),
                "flat_fee": format(_plain(t.flat_fee), "f"),
            }
            for t in tiers
        ]
    )


def _tiers(text: str) -> tuple[Tier, ...]:
    return tuple(
        Tier(
            None if t["up_to"] is None else Decimal(t["up_to"]),
            Decimal(t["unit_price"]),
            Decimal(t["flat_fee"]),
        )
        for t in json.loads(text)
    )


def _tier_models(tiers: Sequence[TierIn]) -> tuple[Tier, ...]:
    return tuple(Tier(t.up_to, t.unit_price, t.flat_fee) for t in tiers)


def _tiers_public(text: str) -> list[TierPublic]:
    return [TierPublic(up_to=t.up_to, unit_price=t.unit_price, flat_fee=t.flat_fee) for t in _tiers(text)]


def _tier_terms(text: str) -> list[TierTerms]:
    return [TierTerms(up_to=t.up_to, unit_price=t.unit_price, flat_fee=t.flat_fee) for t in _tiers(text)]


# --- products ----------------------------------------------------------------------------


def product_public(row: Product) -> ProductPublic:
    """The public view of a product row."""
    return ProductPublic.model_validate(row, from_attributes=True)


def _product_changed(row: Product, change: str) -> ProductChanged:
    return ProductChanged(
        product_id=row.id,
        change=change,
        sku=row.sku,
        name=row.name,
        kind=row.kind,
        unit_of_measure=row.unit_of_measure,
        license_type=row.license_type,
        revenue_rule=row.revenue_rule,
        tax_code=row.tax_code,
        vendor_id=row.vendor_id,
        active=row.active,
    )


async def create_product(*, uow: CatalogUnitOfWork, command: ProductCreate) -> ProductPublic:
    """Add a product; its SKU must be new (409 otherwise)."""
    if await uow.catalog.exists(Product, sku=command.sku):
        raise Conflict(f"a product with SKU {command.sku!r} already exists")
    now = utcnow()
    row = Product(id=new_id("prod"), **command.model_dump(), active=True, created_at=now, updated_at=now)
    public = product_public(row)
    await _record_created(uow, row, "product", public, _product_changed(row, "created"))
    return public


async def update_product(*, uow: CatalogUnitOfWork, product_id: str, command: ProductUpdate) -> ProductPublic:
    """Change a product's descriptive fields (the SKU and kind stay)."""
    row = await uow.catalog.get(Product, product_id)
    changes = command.model_dump(exclude_unset=True)
    await _record_update(
        uow,
        row,
        changes,
        entity_type="product",
        changed=_product_changed,
        nullable=("description", "vendor_id"),
    )
    return product_public(row)


async def get_product(*, uow: CatalogUnitOfWork, product_id: str) -> ProductPublic:
    """One product."""
    return product_public(await uow.catalog.get(Product, product_id))


async def list_products(
    *, uow: CatalogUnitOfWork, page: PageRequest, kind: str | None, active: bool | None
) -> Page[ProductPublic]:
    """A page of products, optionally of one kind or activity."""
    return _public_page(await uow.catalog.page(Product, page, kind=kind, active=active), product_public)


# --- vendor cost books -------------------------------------------------------------------


def _cost_book_public(row: CostBookVersion, latest_version: int) -> CostBookPublic:
    return CostBookPublic(
        id=row.cost_book_id,
        vendor_id=row.vendor_id,
        name=row.name,
        currency=row.currency,
        version=row.version,
        latest_version=latest_version,
        mode=TierMode(row.mode),
        markup_percent=_plain(row.markup_percent),
        tiers=_tiers_public(row.tiers),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        published_at=row.published_at,
    )


def _pricing_cost_book(row: CostBookVersion) -> PricingCostBook:
    return PricingCostBook(_tiers(row.tiers), TierMode(row.mode), row.markup_percent)


def _cost_book_version(
    book: CostBook, window: VersionWindow, command: CostBookCreate | CostBookVersionCreate, actor: str
) -> CostBookVersion:
    build_cost_book(_tier_models(command.tiers), command.mode, command.markup_percent)
    return CostBookVersion(
        id=new_id("cbv"),
        cost_book_id=book.id,
        version=window.version,
        vendor_id=book.vendor_id,
        name=command.name,
        currency=book.currency,
        mode=command.mode.value,
        markup_percent=command.markup_percent,
        tiers=_tiers_json(command.tiers),
        effective_from=window.effective_from,
        effective_to=window.effective_to,
        published_at=utcnow(),
        published_by=actor,
    )


def _cost_book_published(row: CostBookVersion) -> CostBookPublished:
    return CostBookPublished(
        cost_book_id=row.cost_book_id,
        version=row.version,
        vendor_id=row.vendor_id,
        currency=row.currency,
        mode=row.mode,
        markup_percent=_plain(row.markup_percent),
        tiers=_tier_terms(row.tiers),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


async def create_cost_book(*, uow: CatalogUnitOfWork, command: CostBookCreate) -> CostBookPublic:
    """Publish version 1 of a vendor's cost book."""
    window = first_window(command.effective_from or _today(), command.effective_to)
    book = CostBook(
        id=new_id("cb"),
        vendor_id=command.vendor_id,
        currency=command.currency,
        latest_version=1,
        created_at=utcnow(),
    )
    version = _cost_book_version(book, window, command, uow.actor)
    uow.catalog.add(book, version)
    public = _cost_book_public(version, 1)
    changes = public.model_dump(mode="json")
    await _record(uow, "published", "cost_book", book.id, changes, _cost_book_published(version), key=book.id)
    return public


async def publish_cost_book_version(
    *, uow: CatalogUnitOfWork, cost_book_id: str, command: CostBookVersionCreate
) -> CostBookPublic:
    """Publish a new cost book version; the latest one ends where the new one starts."""
    book, latest, window = await _next_version(
        uow, CostBookVersion, cost_book_id, command.effective_from, command.effective_to
    )
    version = _cost_book_version(book, window, command, uow.actor)
    _supersede(uow, book, latest, version)
    public = _cost_book_public(version, window.version)
    changes = public.model_dump(mode="json")
    await _record(uow, "published", "cost_book", book.id, changes, _cost_book_published(version), key=book.id)
    return public


async def get_cost_book(*, uow: CatalogUnitOfWork, cost_book_id: str, as_of: date | None) -> CostBookPublic:
    """The cost book version in force on `as_of` (404 if none), or the latest version."""
    return _cost_book_public(*await _version_as_of(uow, CostBookVersion, cost_book_id, as_of))


async def list_cost_books(
    *, uow: CatalogUnitOfWork, page: PageRequest, vendor_id: str | None
) -> Page[CostBookPublic]:
    """A page of cost books (latest versions)."""
    rows = await uow.catalog.latest_versions_page(CostBookVersion, page, vendor_id=vendor_id)
    return _public_page(rows, lambda r: _cost_book_public(r, r.version))


async def list_cost_book_versions(
    *, uow: CatalogUnitOfWork, cost_book_id: str, page: PageRequest
) -> Page[CostBookPublic]:
    """A page of one cost book's versions, oldest first."""
    rows, latest = await _versions_page(uow, CostBookVersion, cost_book_id, page)
    return _public_page(rows, lambda r: _cost_book_public(r, latest))


async def _cost_book_in_force(
    uow: CatalogUnitOfWork, cost_book_id: str, as_of: date, field: str
) -> CostBookVersion:
    """The cost book version in force on `as_of`; none in force is a 422 on `field`."""
    await uow.catalog.get(CostBook, cost_book_id)
    versions = await uow.catalog.versions(CostBookVersion, cost_book_id)
    try:
        return version_in_force(versions, as_of, entity="cost book", entity_id=cost_book_id)
    except NoVersionInForce as exc:
        raise ValidationFailed.single(field, exc.detail, "no_version_in_force") from None


# --- prices ------------------------------------------------------------------------------


def _price_terms(command: PriceTermsIn) -> PriceTerms:
    return PriceTerms(
        model=command.model,
        unit_price=command.unit_price,
        amount=command.amount,
        tiers=_tier_models(command.tiers),
        package_size=command.package_size,
        included_quantity=command.included_quantity,
        minimum_commitment=command.minimum_commitment,
        cost_book_id=command.cost_book_id,
    )


def _version_terms(row: PriceVersion) -> PriceTerms:
    return PriceTerms(
        model=PricingModel(row.model),
        unit_price=row.unit_price,
        amount=row.amount,
        tiers=_tiers(row.tiers),
        package_size=row.package_size,
        included_quantity=row.included_quantity,
        minimum_commitment=row.minimum_commitment,
        cost_book_id=row.cost_book_id,
    )


async def _check_terms(
    uow: CatalogUnitOfWork, terms: PriceTerms, currency: str, effective_from: date
) -> None:
    """Validate price terms; a cost-plus price needs a cost book version in force when it starts."""
    book: PricingCostBook | None = None
    book_currency: str | None = None
    if terms.cost_book_id is not None and terms.model == PricingModel.COST_PLUS:
        version = await _cost_book_in_force(uow, terms.cost_book_id, effective_from, "cost_book_id")
        book, book_currency = _pricing_cost_book(version), version.currency
    validate_price_terms(terms, currency, book, book_currency)


def _price_public(row: PriceVersion, latest_version: int) -> PricePublic:
    return PricePublic(
        id=row.price_id,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        timing=row.timing,
        version=row.version,
        latest_version=latest_version,
        model=PricingModel(row.model),
        unit_price=_plain_or_none(row.unit_price),
        amount=_plain_or_none(row.amount),
        tiers=_tiers_public(row.tiers),
        package_size=_plain_or_none(row.package_size),
        included_quantity=_plain(row.included_quantity),
        minimum_commitment=_plain_or_none(row.minimum_commitment),
        cost_book_id=row.cost_book_id,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        published_at=row.published_at,
    )


def _price_published(row: PriceVersion, previous_end: date | None = None) -> PricePublished:
    return PricePublished(
        price_id=row.price_id,
        version=row.version,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        timing=row.timing,
        model=row.model,
        unit_price=_plain_or_none(row.unit_price),
        amount=_plain_or_none(row.amount),
        tiers=_tier_terms(row.tiers),
        package_size=_plain_or_none(row.package_size),
        included_quantity=_plain(row.included_quantity),
        minimum_commitment=_plain_or_none(row.minimum_commitment),
        cost_book_id=row.cost_book_id,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        previous_version_effective_to=previous_end,
    )


def _price_version(
    *,
    price: Price,
    window: VersionWindow,
    command: PriceTermsIn,
    charge_type: str,
    billing_period: str | None,
    timing: str,
    actor: str,
) -> PriceVersion:
    return PriceVersion(
        id=new_id("pver"),
        price_id=price.id,
        version=window.version,
        product_id=price.product_id,
        currency=price.currency,
        charge_type=charge_type,
        billing_period=billing_period,
        timing=timing,
        model=command.model.value,
        unit_price=command.unit_price,
        amount=command.amount,
        tiers=_tiers_json(command.tiers),
        package_size=command.package_size,
        included_quantity=command.included_quantity,
        minimum_commitment=command.minimum_commitment,
        cost_book_id=command.cost_book_id,
        effective_from=window.effective_from,
        effective_to=window.effective_to,
        published_at=utcnow(),
        published_by=actor,
    )


async def create_price(*, uow: CatalogUnitOfWork, command: PriceCreate) -> PricePublic:
    """Publish version 1 of a price of a product in a currency."""
    await uow.catalog.get(Product, command.product_id)
    check_charge_schedule(command.charge_type, command.billing_period, command.timing)
    window = first_window(command.effective_from or _today(), command.effective_to)
    await _check_terms(uow, _price_terms(command), command.currency, window.effective_from)
    price = Price(
        id=new_id("price"),
        product_id=command.product_id,
        currency=command.currency,
        latest_version=1,
        created_at=utcnow(),
    )
    version = _price_version(
        price=price,
        window=window,
        command=command,
        charge_type=command.charge_type.value,
        billing_period=None if command.billing_period is None else command.billing_period.value,
        timing=command.timing.value,
        actor=uow.actor,
    )
    uow.catalog.add(price, version)
    public = _price_public(version, 1)
    changes = public.model_dump(mode="json")
    await _record(
        uow, "published", "price", price.id, changes, _price_published(version), key=price.product_id
    )
    return public


async def publish_price_version(
    *, uow: CatalogUnitOfWork, price_id: str, command: PriceVersionCreate
) -> PricePublic:
    """Publish a new version of a price; the latest version ends where the new one starts."""
    price, latest, window = await _next_version(
        uow, PriceVersion, price_id, command.effective_from, command.effective_to
    )
    await _check_terms(uow, _price_terms(command), price.currency, window.effective_from)
    version = _price_version(
        price=price,
        window=window,
        command=command,
        charge_type=latest.charge_type,
        billing_period=latest.billing_period,
        timing=latest.timing,
        actor=uow.actor,
    )
    _supersede(uow, price, latest, version)
    public = _price_public(version, window.version)
    changes = {
        **public.model_dump(mode="json"),
        "previous_version_effective_to": window.effective_from.isoformat(),
    }
    event = _price_published(version, window.effective_from)
    await _record(uow, "published", "price", price.id, changes, event, key=price.product_id)
    return public


async def get_price(*, uow: CatalogUnitOfWork, price_id: str, as_of: date | None) -> PricePublic:
    """The price version in force on `as_of` (404 if none), or the latest version."""
    return _price_public(*await _version_as_of(uow, PriceVersion, price_id, as_of))


async def list_prices(
    *, uow: CatalogUnitOfWork, page: PageRequest, product_id: str | None, currency: str | None
) -> Page[PricePublic]:
    """A page of prices (latest versions), optionally of one product or currency."""
    rows = await uow.catalog.latest_versions_page(
        PriceVersion, page, product_id=product_id, currency=currency
    )
    return _public_page(rows, lambda r: _price_public(r, r.version))


async def list_price_versions(
    *, uow: CatalogUnitOfWork, price_id: str, page: PageRequest
) -> Page[PricePublic]:
    """A page of one price's versions, oldest first."""
    rows, latest = await _versions_page(uow, PriceVersion, price_id, page)
    return _public_page(rows, lambda r: _price_public(r, latest))


# --- bundles -----------------------------------------------------------------------------


def _components(text: str) -> list[BundleComponent]:
    return [BundleComponent(c["product_id"], Decimal(c["quantity"])) for c in json.loads(text)]


def _components_json(components: Sequence[BundleComponent]) -> str:
    return json.dumps(
        [{"product_id": c.product_id, "quantity": format(_plain(c.quantity), "f")} for c in components]
    )


def bundle_public(row: Bundle) -> BundlePublic:
    """The public view of a bundle row."""
    return BundlePublic(
        id=row.id,
        name=row.name,
        description=row.description,
        components=[
            BundleComponentPublic(product_id=c.product_id, quantity=c.quantity)
            for c in _components(row.components)
        ],
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _bundle_changed(row: Bundle, change: str) -> BundleChanged:
    return BundleChanged(
        bundle_id=row.id,
        change=change,
        name=row.name,
        components=[
            BundleComponentTerms(product_id=c.product_id, quantity=c.quantity)
            for c in _components(row.components)
        ],
        active=row.active,
    )


async def _checked_components(uow: CatalogUnitOfWork, components: Sequence[Any]) -> list[BundleComponent]:
    parts = [BundleComponent(c.product_id, c.quantity) for c in components]
    validate_components(parts)
    await uow.catalog.get_many(Product, [p.product_id for p in parts])
    return parts


async def create_bundle(*, uow: CatalogUnitOfWork, command: BundleCreate) -> BundlePublic:
    """Add a bundle of existing products."""
    parts = await _checked_components(uow, command.components)
    now = utcnow()
    row = Bundle(
        id=new_id("bnd"),
        name=command.name,
        description=command.description,
        components=_components_json(parts),
        active=True,
        created_at=now,
        updated_at=now,
    )
    public = bundle_public(row)
    await _record_created(uow, row, "bundle", public, _bundle_changed(row, "created"))
    return public


async def update_bundle(*, uow: CatalogUnitOfWork, bundle_id: str, command: BundleUpdate) -> BundlePublic:
    """Change a bundle's name, description, components or activity."""
    row = await uow.catalog.get(Bundle, bundle_id)
    changes = command.model_dump(exclude_unset=True)
    if "components" in changes:
        if command.components is None:
            raise ValidationFailed.single("components", "may not be null")
        changes["components"] = _components_json(await _checked_components(uow, command.components))
    await _record_update(
        uow, row, changes, entity_type="bundle", changed=_bundle_changed, nullable=("description",)
    )
    return bundle_public(row)


async def get_bundle(*, uow: CatalogUnitOfWork, bundle_id: str) -> BundlePublic:
    """One bundle."""
    return bundle_public(await uow.catalog.get(Bundle, bundle_id))


async def list_bundles(*, uow: CatalogUnitOfWork, page: PageRequest) -> Page[BundlePublic]:
    """A page of bundles."""
    return _public_page(await uow.catalog.page(Bundle, page), bundle_public)


# --- discounts ---------------------------------------------------------------------------


def _discount_terms(row: Discount) -> DiscountTerms:
    return DiscountTerms(
        id=row.id,
        name=row.name,
        kind=DiscountKind(row.kind),
        value=row.value,
        currency=row.currency,
        product_ids=tuple(json.loads(row.product_ids)),
        approval_threshold_percent=row.approval_threshold_percent,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        duration_cycles=row.duration_cycles,
        active=row.active,
    )


def discount_public(row: Discount) -> DiscountPublic:
    """The public view of a discount row."""
    return DiscountPublic(
        id=row.id,
        name=row.name,
        kind=DiscountKind(row.kind),
        value=_plain(row.value),
        currency=row.currency,
        duration_cycles=row.duration_cycles,
        product_ids=json.loads(row.product_ids),
        approval_threshold_percent=_plain_or_none(row.approval_threshold_percent),
        promo_code=row.promo_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _discount_changed(row: Discount, change: str) -> DiscountChanged:
    public = discount_public(row)
    return DiscountChanged(
        discount_id=row.id,
        change=change,
        **public.model_dump(exclude={"id", "created_at", "updated_at"}),
    )


async def create_discount(*, uow: CatalogUnitOfWork, command: DiscountCreate) -> DiscountPublic:
    """Add a discount or promotion; its products must exist and its promo code be new."""
    now = utcnow()
    row = Discount(
        id=new_id("disc"),
        name=command.name,
        kind=command.kind.value,
        value=command.value,
        currency=command.currency,
        duration_cycles=command.duration_cycles,
        product_ids=json.dumps(command.product_ids),
        approval_threshold_percent=command.approval_threshold_percent,
        promo_code=command.promo_code,
        valid_from=command.valid_from,
        valid_to=command.valid_to,
        active=True,
        created_at=now,
        updated_at=now,
    )
    validate_discount(_discount_terms(row))
    await uow.catalog.get_many(Product, command.product_ids)
    if command.promo_code is not None and await uow.catalog.exists(Discount, promo_code=command.promo_code):
        raise Conflict(f"promo code {command.promo_code!r} is already used by another discount")
    public = discount_public(row)
    await _record_created(uow, row, "discount", public, _discount_changed(row, "created"))
    return public


async def update_discount(
    *, uow: CatalogUnitOfWork, discount_id: str, command: DiscountUpdate
) -> DiscountPublic:
    """Change a discount's name, products, threshold, validity or activity."""
    row = await uow.catalog.get(Discount, discount_id)
    changes = command.model_dump(exclude_unset=True)
    if "product_ids" in changes:
        if command.product_ids is None:
            raise ValidationFailed.single("product_ids", "may not be null; [] means every product")
        await uow.catalog.get_many(Product, command.product_ids)
        changes["product_ids"] = json.dumps(command.product_ids)
    await _record_update(
        uow,
        row,
        changes,
        entity_type="discount",
        changed=_discount_changed,
        nullable=("approval_threshold_percent", "duration_cycles", "valid_from", "valid_to"),
        check=lambda r: validate_discount(_discount_terms(r)),
    )
    return discount_public(row)


async def get_discount(*, uow: CatalogUnitOfWork, discount_id: str) -> DiscountPublic:
    """One discount."""
    return discount_public(await uow.catalog.get(Discount, discount_id))


async def list_discounts(
    *, uow: CatalogUnitOfWork, page: PageRequest, promo_code: str | None, active: bool | None
) -> Page[DiscountPublic]:
    """A page of discounts, optionally the one with a promo code."""
    rows = await uow.catalog.page(Discount, page, promo_code=promo_code, active=active)
    return _public_page(rows, discount_public)


# --- support-contract templates ----------------------------------------------------------


def template_public(row: ContractTemplate) -> ContractTemplatePublic:
    """The public view of a contract template row."""
    return ContractTemplatePublic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        period_months=row.period_months,
        hours=_plain_or_none(row.hours),
        on_expiry=row.on_expiry,
        product_id=row.product_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _template_terms(row: ContractTemplate) -> ContractTerms:
    public = template_public(row)
    return ContractTerms(public.kind, public.period_months, public.hours, public.on_expiry)


def _template_changed(row: ContractTemplate, change: str) -> ContractTemplateChanged:
    public = template_public(row)
    return ContractTemplateChanged(
        template_id=row.id,
        change=change,
        **public.model_dump(exclude={"id", "created_at", "updated_at"}),
    )


async def create_contract_template(
    *, uow: CatalogUnitOfWork, command: ContractTemplateCreate
) -> ContractTemplatePublic:
    """Add a support-contract template after checking the bounds its kind needs."""
    validate_contract_terms(
        ContractTerms(command.kind, command.period_months, command.hours, command.on_expiry)
    )
    if command.product_id is not None:
        await uow.catalog.get(Product, command.product_id)
    now = utcnow()
    row = ContractTemplate(
        id=new_id("ctpl"),
        name=command.name,
        kind=command.kind.value,
        period_months=command.period_months,
        hours=command.hours,
        on_expiry=command.on_expiry.value,
        product_id=command.product_id,
        created_at=now,
        updated_at=now,
    )
    public = template_public(row)
    await _record_created(uow, row, "contract_template", public, _template_changed(row, "created"))
    return public


async def update_contract_template(
    *, uow: CatalogUnitOfWork, template_id: str, command: ContractTemplateUpdate
) -> ContractTemplatePublic:
    """Change a template; the result must still suit its kind."""
    row = await uow.catalog.get(ContractTemplate, template_id)
    changes = command.model_dump(exclude_unset=True)
    if changes.get("on_expiry") is not None:
        changes["on_expiry"] = changes["on_expiry"].value
    await _record_update(
        uow,
        row,
        changes,
        entity_type="contract_template",
        changed=_template_changed,
        nullable=("period_months", "hours"),
        check=lambda r: validate_contract_terms(_template_terms(r)),
    )
    return template_public(row)


async def get_contract_template(*, uow: CatalogUnitOfWork, template_id: str) -> ContractTemplatePublic:
    """One contract template."""
    return template_public(await uow.catalog.get(ContractTemplate, template_id))


async def list_contract_templates(
    *, uow: CatalogUnitOfWork, page: PageRequest
) -> Page[ContractTemplatePublic]:
    """A page of contract templates."""
    return _public_page(await uow.catalog.page(ContractTemplate, page), template_public)


# --- quotes ------------------------------------------------------------------------------


def _quote_line_public(line: QuoteLine, currency: str, bundle_id: str | None) -> QuoteLinePublic:
    return QuoteLinePublic(
        line_number=line.line_number,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        bundle_id=bundle_id,
        description=line.description,
        quantity=_plain(line.quantity),
        unit_price=line.unit_price,
        list_amount=line.list_amount,
        discounts=[
            LineDiscountPublic(discount_id=d.discount_id, name=d.name, amount=d.amount)
            for d in line.discounts
        ],
        discount_amount=line.discount_amount,
        net_amount=line.net_amount,
        effective_percent_off=line.effective_percent_off,
        needs_approval=line.needs_approval,
        tier_breakdown=[
            TierLinePublic(
                band_from=t.band_from,
                band_to=t.band_to,
                quantity=t.quantity,
                unit_price=t.unit_price,
                flat_fee=t.flat_fee,
                amount=t.amount,
            )
            for t in line.tier_breakdown
        ],
        minimum_shortfall=round_money(line.minimum_shortfall, currency),
    )


def quote_public(row: Quote) -> QuotePublic:
    """The public view of a stored quote (totals shown to the currency's minor units)."""
    return QuotePublic(
        id=row.id,
        currency=row.currency,
        as_of=row.as_of,
        lines=[QuoteLinePublic.model_validate(line) for line in json.loads(row.lines)],
        subtotal=round_money(row.subtotal, row.currency),
        discount_total=round_money(row.discount_total, row.currency),
        total=round_money(row.total, row.currency),
        needs_approval=row.needs_approval,
        approval_reasons=json.loads(row.approval_reasons),
        created_at=row.created_at,
    )


def _price_in_force(row: PriceVersion) -> PriceInForce:
    return PriceInForce(row.price_id, row.version, row.product_id, row.currency, _version_terms(row))


async def _quote_catalog(
    uow: CatalogUnitOfWork, currency: str, as_of: date, requested: Sequence[RequestedItem]
) -> QuoteCatalog:
    """Everything the requested items read, in one query per kind of row (not one per line)."""
    repo = uow.catalog
    prices = await repo.find_many(Price, [r.price_id for r in requested if r.price_id is not None])
    versions = await repo.versions_in_force(PriceVersion, prices, as_of)
    bundles = await repo.find_many(Bundle, [r.bundle_id for r in requested if r.bundle_id is not None])
    components = {b.id: tuple(_components(b.components)) for b in bundles.values()}
    component_products = {c.product_id for parts in components.values() for c in parts}
    component_versions = await repo.product_prices_in_force(component_products, currency, as_of)
    products = await repo.find_many(
        Product, [*(v.product_id for v in versions.values()), *sorted(component_products)]
    )
    in_force = [*versions.values(), *component_versions.values()]
    book_ids = {
        v.cost_book_id for v in in_force if v.model == PricingModel.COST_PLUS and v.cost_book_id is not None
    }
    books = await repo.versions_in_force(CostBookVersion, book_ids, as_of)
    return QuoteCatalog(
        currency=currency,
        as_of=as_of,
        prices={
            price_id: None if price_id not in versions else _price_in_force(versions[price_id])
            for price_id in prices
        },
        bundles={b.id: QuotedBundle(b.id, b.name, b.active, components[b.id]) for b in bundles.values()},
        component_prices={pid: _price_in_force(v) for pid, v in component_versions.items()},
        products={p.id: QuotedProduct(p.id, p.sku, p.name, p.active) for p in products.values()},
        cost_books={book_id: _pricing_cost_book(v) for book_id, v in books.items()},
    )


async def _promotions(
    uow: CatalogUnitOfWork, codes: Sequence[str], as_of: date
) -> tuple[RequestedDiscount, ...]:
    """The discounts of promo codes valid on `as_of`; an unknown or expired code is a 422 on its field."""
    found = await uow.catalog.discounts_by_promo_code(codes)
    errors = FieldErrors()
    promotions: list[RequestedDiscount] = []
    for index, code in enumerate(codes):
        field = f"promo_codes.{index}"
        if code not in found:
            errors.add(field, f"promo code {code!r} does not exist", "unknown_promo_code")
            continue
        terms = _discount_terms(found[code])
        if not terms.is_valid_on(as_of):
            errors.add(
                field, f"promo code {code!r} is not valid on {as_of.isoformat()}", "promo_code_not_valid"
            )
            continue
        promotions.append(RequestedDiscount(terms, field))
    errors.raise_if_any("The promo codes cannot be used")
    return tuple(promotions)


async def create_quote(*, uow: CatalogUnitOfWork, command: QuoteCreate) -> QuotePublic:
    """Price items (prices or bundles) as of a date with their discounts, and save the quote."""
    as_of = command.as_of or _today()
    discount_rows = await uow.catalog.get_many(
        Discount, [*command.discount_ids, *(d for item in command.items for d in item.discount_ids)]
    )
    terms = {row_id: _discount_terms(row) for row_id, row in discount_rows.items()}
    quote_level = tuple(
        RequestedDiscount(terms[d], f"discount_ids.{j}") for j, d in enumerate(command.discount_ids)
    )
    promotions = await _promotions(uow, command.promo_codes, as_of)
    requested = [
        RequestedItem(
            field=f"items.{index}",
            price_id=item.price_id,
            bundle_id=item.bundle_id,
            quantity=item.quantity,
            discounts=quote_level
            + tuple(
                RequestedDiscount(terms[d], f"items.{index}.discount_ids.{j}")
                for j, d in enumerate(item.discount_ids)
            ),
            promotions=promotions,
        )
        for index, item in enumerate(command.items)
    ]
    items = quote_items(requested, await _quote_catalog(uow, command.currency, as_of, requested))
    check_promotions(promotions, items)

    priced = price_quote(command.currency, as_of, items)
    lines = [
        _quote_line_public(line, command.currency, item.bundle_id)
        for line, item in zip(priced.lines, items, strict=True)
    ]
    row = Quote(
        id=new_id("quo"),
        currency=command.currency,
        as_of=as_of,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        total=priced.total,
        needs_approval=priced.needs_approval,
        approval_reasons=json.dumps(list(priced.approval_reasons)),
        lines=json.dumps([line.model_dump(mode="json") for line in lines]),
        created_at=utcnow(),
        created_by=uow.actor,
    )
    uow.catalog.add(row)
    public = quote_public(row)
    uow.audit(
        "quote.created",
        "quote",
        row.id,
        {
            "currency": row.currency,
            "as_of": as_of.isoformat(),
            "total": format(priced.total, "f"),
            "lines": len(lines),
            "promo_codes": list(command.promo_codes),
        },
    )
    uow.emit(
        QuoteCreated(
            quote_id=row.id,
            currency=row.currency,
            as_of=as_of,
            line_count=len(lines),
            subtotal=priced.subtotal,
            discount_total=priced.discount_total,
            total=priced.total,
            needs_approval=priced.needs_approval,
        ),
        key=row.id,
    )
    await uow.commit()
    return public


async def get_quote(*, uow: CatalogUnitOfWork, quote_id: str) -> QuotePublic:
    """One quote."""
    return quote_public(await uow.catalog.get(Quote, quote_id))


async def list_quotes(*, uow: CatalogUnitOfWork, page: PageRequest) -> Page[QuotePublic]:
    """A page of quotes, oldest first."""
    return _public_page(await uow.catalog.page(Quote, page), quote_public)
