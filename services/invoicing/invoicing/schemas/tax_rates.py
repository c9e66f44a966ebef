"""Requests and views of tax rates (`/v1/tax-rates`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from invoicing.domain.tax import TaxRate
from libs.contracts.types import IsoDate, Percent
from libs.platform.countries import COUNTRY_CODES
from libs.platform.money import percent_out
from libs.platform.text import ONE_LINE


def _validate_country(value: object) -> str:
    if not isinstance(value, str) or value not in COUNTRY_CODES:
        raise PydanticCustomError(
            "unknown_country", 'a country must be an ISO 3166 alpha-2 code in upper case such as "GB"'
        )
    return value


CountryCode = Annotated[
    str,
    PlainValidator(_validate_country),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(COUNTRY_CODES),
            "description": "An ISO 3166 alpha-2 country code.",
            "examples": ["GB"],
        }
    ),
]
"""An ISO 3166 alpha-2 country code ("GB", "US"); the schema lists them all."""

Region = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    ONE_LINE,
    Field(
        description="A region of the country as accounts' tax addresses name it (`CA`, `Ontario`); "
        "compared ignoring case and surrounding spaces. Absent: the whole country.",
        examples=["CA"],
    ),
]
TaxCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
    Field(
        description="A product tax code as the catalog's products carry it. Absent: every code.",
        examples=["SW050000"],
    ),
]
RateName = Annotated[str, StringConstraints(min_length=1, max_length=100), ONE_LINE]


class TaxRateCreate(BaseModel):
    """A new tax rate. Once published it is never edited; it can only be ended."""

    model_config = ConfigDict(extra="forbid")

    country: CountryCode
    region: Region | None = None
    tax_code: TaxCode | None = None
    rate: Percent = Field(description='Percent as a decimal string: "20" is 20 %.', examples=["20"])
    name: RateName = Field(description="What invoices call the tax.", examples=["VAT"])
    effective_from: IsoDate = Field(description="First day the rate is in force.")
    effective_to: IsoDate | None = Field(
        default=None, description="First day the rate is no longer in force (exclusive); absent: open-ended."
    )


class TaxRateEnd(BaseModel):
    """When a rate stops being in force."""

    model_config = ConfigDict(extra="forbid")

    effective_to: IsoDate = Field(
        description="First day the rate is no longer in force (exclusive); after its effective_from "
        "and before any end it already has."
    )


class TaxRatePublic(BaseModel):
    """A published tax rate."""

    id: str = Field(examples=["txr_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    country: str
    region: str | None
    tax_code: str | None
    rate: Percent
    name: str
    effective_from: IsoDate
    effective_to: IsoDate | None
    created_at: datetime = Field(description="When the rate was published.")
    updated_at: datetime = Field(description="When it was published or last ended.")


def tax_rate_public(rate: TaxRate) -> TaxRatePublic:
    """The public view of a stored rate (its percent in its shortest form)."""
    assert rate.created_at is not None and rate.updated_at is not None, "a stored rate has its timestamps"
    return TaxRatePublic(
        id=rate.id,
        country=rate.country,
        region=rate.region,
        tax_code=rate.tax_code,
        rate=percent_out(rate.rate),
        name=rate.name,
        effective_from=rate.effective_from,
        effective_to=rate.effective_to,
        created_at=rate.created_at,
        updated_at=rate.updated_at,
    )
