"""Provisioning running in-process on a real database, its catalog a fake or the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from provisioning.app import create_app
from provisioning.config import ProvisioningSettings
from tests.provisioning.fakes import InMemoryCatalog
from tests.support.services import running_app, service_settings


@pytest.fixture
def migrated_service() -> str:
    """The databases of these tests come migrated to provisioning's head (copies of a template)."""
    return "provisioning"


@pytest.fixture
def catalog() -> InMemoryCatalog:
    """A catalog with the products of the worked cases (seeds 000 and 003)."""
    fake = InMemoryCatalog()
    fake.add_product(
        "prod_wfm",
        price_id="price_wfm",
        unit_price="12.00",
        kind="license",
        vendor_id="ven_wfm",
        billing_period="annual",
    )
    fake.add_product("prod_support", price_id="price_support", unit_price="300.00")
    fake.add_product(
        "prod_platform",
        price_id="price_platform",
        unit_price="150.00",
        license_type="pay_as_you_go",
        charge_type="one_time",
        billing_period=None,
    )
    fake.add_product(
        "prod_ws_license",
        price_id="price_ws_license",
        unit_price="400.00",
        license_type="pay_as_you_go",
        charge_type="one_time",
        billing_period=None,
    )
    fake.add_product(
        "prod_workshop",
        price_id="price_workshop",
        unit_price="5000.00",
        license_type="none",
        charge_type="one_time",
        billing_period=None,
    )
    for part, price in (("accelerate", "90.00"), ("ws_seat", "350.00"), ("assessment", "60.00")):
        fake.add_product(
            f"prod_{part}",
            price_id=f"price_{part}",
            unit_price=price,
            license_type="committed",
            charge_type="one_time",
            billing_period=None,
        )
    fake.add_product("prod_eur", price_id="price_eur", unit_price="10.00", currency="EUR")
    fake.add_discount("disc_partner", percent="10", threshold="15")
    fake.add_discount("disc_strategic", percent="25", threshold="15")
    return fake


def provisioning_settings(database_url: str, broker: str | None = None) -> ProvisioningSettings:
    """Settings for provisioning under test."""
    return service_settings(ProvisioningSettings, database_url=database_url, bootstrap=broker)  # type: ignore[no-any-return]


@pytest.fixture
def provisioning_app(sqlite_url: str, catalog: InMemoryCatalog) -> FastAPI:
    """Provisioning on SQLite with the fake catalog, bus off (not started)."""
    return create_app(provisioning_settings(sqlite_url), catalog=catalog)


@pytest.fixture
async def client(provisioning_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running `provisioning_app`."""
    async with running_app(provisioning_app) as http:
        yield http


@pytest.fixture
async def any_db_client(database_url: str, catalog: InMemoryCatalog) -> AsyncIterator[httpx.AsyncClient]:
    """Provisioning on SQLite and on PostgreSQL, with the fake catalog, bus off."""
    async with running_app(create_app(provisioning_settings(database_url), catalog=catalog)) as http:
        yield http
