"""`/v1/vendors` and `/v1/vendor-tenants`: vendors, their webhook secrets, their tenants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from overage.api.deps import ID_PATTERN, FinanceUow, ReadUow, id_path, runtime_from
from overage.handlers import vendors as handlers
from overage.schemas.vendors import (
    SecretCreate,
    SecretCreated,
    VendorCreate,
    VendorCreated,
    VendorPublic,
    VendorTenantCreate,
    VendorTenantPublic,
)

router = APIRouter(tags=["vendors"])
VendorId = Annotated[str, id_path("Vendor id (ven_…).")]
TenantId = Annotated[str, id_path("Vendor tenant id (vtn_…).")]


def _master_key(request: Request) -> str:
    return runtime_from(request).overage_settings.resolved_webhook_secret_key()


@router.post(
    "/v1/vendors",
    status_code=201,
    response_model=VendorCreated,
    summary="Add a vendor",
    description="A vendor we resell, its catalog cost book (our markup) and contacts (`account_director` "
    "for kickoff calls). The answer holds its first webhook secret — shown this once; give it to the vendor.",
    responses=created_links("vendor_id", "get_vendor", "rotate_vendor_secret"),
)
async def create_vendor(body: VendorCreate, uow: FinanceUow, request: Request) -> VendorCreated:
    return await handlers.create_vendor(uow=uow, command=body, master_key=_master_key(request))


@router.get("/v1/vendors", response_model=Page[VendorPublic], summary="List vendors")
async def list_vendors(uow: ReadUow, page: PageParams) -> Page[VendorPublic]:
    return await handlers.list_vendors(uow=uow, page=page)


@router.get("/v1/vendors/{vendor_id}", response_model=VendorPublic, summary="Get a vendor")
async def get_vendor(vendor_id: VendorId, uow: ReadUow) -> VendorPublic:
    return await handlers.get_vendor(uow=uow, vendor_id=vendor_id)


@router.post(
    "/v1/vendors/{vendor_id}/secrets",
    status_code=201,
    response_model=SecretCreated,
    summary="Rotate the webhook secret",
    description="A new secret (shown this once). The secrets in use stay valid for `overlap_hours` "
    "(default 24) so the vendor can switch without a refused notice, then end.",
)
async def rotate_vendor_secret(
    vendor_id: VendorId, uow: FinanceUow, request: Request, body: SecretCreate | None = None
) -> SecretCreated:
    return await handlers.add_secret(
        uow=uow, vendor_id=vendor_id, command=body or SecretCreate(), master_key=_master_key(request)
    )


@router.post(
    "/v1/vendor-tenants",
    status_code=201,
    response_model=VendorTenantPublic,
    summary="Map a vendor tenant to our account and subscription",
    description="Once per tenant of a vendor (409 after). Its notices are worked from then on; "
    "notices already waiting in the review queue are worked by `POST /v1/overage-notices/review/reprocess`.",
    responses=created_links("tenant_id", "get_vendor_tenant"),
)
async def map_vendor_tenant(body: VendorTenantCreate, uow: FinanceUow) -> VendorTenantPublic:
    return await handlers.map_tenant(uow=uow, command=body)


@router.get("/v1/vendor-tenants", response_model=Page[VendorTenantPublic], summary="List vendor tenants")
async def list_vendor_tenants(
    uow: ReadUow,
    page: PageParams,
    vendor_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Page[VendorTenantPublic]:
    return await handlers.list_tenants(uow=uow, page=page, vendor_id=vendor_id, account_id=account_id)


@router.get(
    "/v1/vendor-tenants/{tenant_id}", response_model=VendorTenantPublic, summary="Get a vendor tenant"
)
async def get_vendor_tenant(tenant_id: TenantId, uow: ReadUow) -> VendorTenantPublic:
    return await handlers.get_tenant(uow=uow, tenant_id=tenant_id)
