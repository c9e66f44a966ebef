"""`/v1/bundles`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from catalog.api.deps import ReadUow, WriteUow, id_path
from catalog.handlers import bundles as handlers
from catalog.schemas.bundles import BundleCreate, BundlePublic, BundleUpdate
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/bundles", tags=["bundles"])
BundleId = Annotated[str, id_path("Bundle id (bnd_…).")]


@router.post(
    "",
    status_code=201,
    response_model=BundlePublic,
    summary="Create a bundle",
    responses=created_links("bundle_id", "get_bundle", "update_bundle"),
)
async def create_bundle(body: BundleCreate, uow: WriteUow) -> BundlePublic:
    return await handlers.create_bundle(uow=uow, command=body)


@router.get("", response_model=Page[BundlePublic], summary="List bundles")
async def list_bundles(uow: ReadUow, page: PageParams) -> Page[BundlePublic]:
    return await handlers.list_bundles(uow=uow, page=page)


@router.get("/{bundle_id}", response_model=BundlePublic, summary="Get a bundle")
async def get_bundle(bundle_id: BundleId, uow: ReadUow) -> BundlePublic:
    return await handlers.get_bundle(uow=uow, bundle_id=bundle_id)


@router.patch("/{bundle_id}", response_model=BundlePublic, summary="Change a bundle")
async def update_bundle(bundle_id: BundleId, body: BundleUpdate, uow: WriteUow) -> BundlePublic:
    return await handlers.update_bundle(uow=uow, bundle_id=bundle_id, command=body)
