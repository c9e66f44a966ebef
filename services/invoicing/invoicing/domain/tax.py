"""Tax: rates by jurisdiction and product tax code with effective dates, exemptions, tax per line.

Rules (DESIGN §6, §7, issue 9):
- Prices are tax-exclusive; tax is added per invoice line, computed on the line's (already
  rounded) amount and rounded once to the currency's minor units, half up. An invoice's tax is
  the sum of its lines' rounded taxes, never a tax on the total.
- The jurisdiction is the account's tax address: a country (ISO 3166 alpha-2) and optionally a
  region. A rate names a country, optionally a region (matched ignoring case and surrounding
  spaces: provisioning keeps the region as free text) and optionally a product tax code (none:
  every code).
- A rate is a **percent** ("20" is 20 %, "8.875" is 8.875 %), as discounts are; 0 is allowed
  (zero-rated goods). It is in force on the half-open range [effective_from, effective_to).
- For a line, the rate in force on the invoice date that is most specific wins:
  region + code > region > country + code > country. Two rates of the same key (country,
  region, code) never overlap in time, so there is at most one candidate per level.
- An account exempt on the invoice date (`AccountTaxStatus.exempt_on`: exempt with a
  certificate valid that day) pays no tax, and each line and the invoice say why.
- A line with no rate (no tax address, or no rate for its jurisdiction and code) is charged
  no tax and says so ("No tax rate for ..."): the invoice still goes out, and the note tells
  finance which rate to publish. Refusing to bill would hold back every other charge.
- Tax is a pluggable calculation: `TaxCalculator` is the port; `RateTableTaxCalculator` is the
  built-in one over stored `TaxRate`s. An external tax service (Avalara, Vertex, a VAT engine)
  is plugged in by another implementation of `TaxCalculator.calculate` returning the same
  `TaxAssessment` — an adapter outside `domain/` that calls the service over httpx.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from invoicing.domain.billing_inputs import AccountTaxStatus, TaxTreatment
from libs.platform.countries import COUNTRY_CODES
from libs.platform.errors import FieldErrors, ValidationFailed
from libs.platform.money import round_money

HUNDRED = Decimal(100)


def region_key(region: str | None) -> str | None:
    """How regions compare: ignoring case and surrounding spaces ("ca " is "CA"); blank is none."""
    if region is None:
        return None
    key = region.strip().upper()
    return key or None


@dataclass(frozen=True, slots=True)
class TaxJurisdiction:
    """Where tax is owed: a country and optionally a region of it."""

    country: str
    region: str | None = None

    @property
    def label(self) -> str:
        """As an invoice shows it: "GB", "US-CA"."""
        return f"{self.country}-{self.region}" if self.region else self.country


@dataclass(frozen=True, slots=True)
class TaxRateKey:
    """What two rates must differ in to overlap in time: country, region and tax code."""

    country: str
    region: str | None
    tax_code: str | None


@dataclass(frozen=True, slots=True)
class TaxRate:
    """A published tax rate: a percent for a jurisdiction (and tax code) over an effective range.

    Never edited once published, except to end it (`effective_to`), as catalog prices.
    """

    id: str
    country: str
    region: str | None
    tax_code: str | None
    """None: every product tax code."""
    rate: Decimal
    """Percent: 20 is 20 %."""
    name: str
    """What the invoice calls it: "VAT", "Sales tax"."""
    effective_from: date
    effective_to: date | None = None
    """Exclusive; None: open-ended."""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> TaxRateKey:
        """The key no two rates in force on one day may share."""
        return TaxRateKey(self.country, region_key(self.region), self.tax_code)

    @property
    def jurisdiction(self) -> TaxJurisdiction:
        """The country and region this rate is for."""
        return TaxJurisdiction(self.country, self.region)

    @property
    def specificity(self) -> int:
        """Rank among rates that match a line: region + code 3, region 2, country + code 1, country 0."""
        return (2 if self.region is not None else 0) + (1 if self.tax_code is not None else 0)

    def in_force_on(self, day: date) -> bool:
        """True when `day` falls in [effective_from, effective_to)."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def overlaps(self, other: TaxRate) -> bool:
        """True when the two ranges share at least one day."""
        return (other.effective_to is None or self.effective_from < other.effective_to) and (
            self.effective_to is None or other.effective_from < self.effective_to
        )

    def applies_to(self, country: str, region: str | None, tax_code: str | None, day: date) -> bool:
        """True when this rate covers a line of `tax_code` taxed in (country, region) on `day`."""
        return (
            self.country == country
            and (self.region is None or region_key(self.region) == region_key(region))
            and (self.tax_code is None or self.tax_code == tax_code)
            and self.in_force_on(day)
        )

    def tax_on(self, amount: Decimal, currency: str) -> Decimal:
        """The tax on one line's amount, rounded once to the currency's minor units, half up."""
        return round_money(amount * self.rate / HUNDRED, currency)


def check_tax_rate(rate: TaxRate) -> None:
    """Refuse (422) a rate with an unknown country, a percent out of range or an end not after its start."""
    errors = FieldErrors()
    if rate.country not in COUNTRY_CODES:
        errors.add("country", f"{rate.country!r} is not an ISO 3166 alpha-2 country code", "unknown_country")
    if rate.region is not None and region_key(rate.region) is None:
        errors.add("region", "must not be blank (leave it out for the whole country)")
    if not Decimal(0) <= rate.rate <= HUNDRED:
        errors.add("rate", "must be a percent from 0 to 100")
    if rate.effective_to is not None and rate.effective_to <= rate.effective_from:
        errors.add("effective_to", "must be after effective_from")
    errors.raise_if_any("The tax rate is invalid")


def check_no_overlap(rate: TaxRate, others: Iterable[TaxRate]) -> None:
    """Refuse (422, field errors on the dates) a rate whose range overlaps another of its key."""
    clashes = sorted(
        (other for other in others if other.id != rate.id and other.key == rate.key and other.overlaps(rate)),
        key=lambda other: (other.effective_from, other.id),
    )
    if not clashes:
        return
    clash = clashes[0]
    until = clash.effective_to.isoformat() if clash.effective_to else "open-ended"
    message = (
        f"overlaps tax rate {clash.id} of the same jurisdiction and tax code "
        f"(in force from {clash.effective_from.isoformat()}, until {until}); end it first"
    )
    errors = FieldErrors()
    errors.add("effective_from", message, "overlapping_rate")
    errors.add("effective_to", message, "overlapping_rate")
    errors.raise_if_any("The tax rate overlaps another of the same jurisdiction and tax code")


def end_tax_rate(rate: TaxRate, effective_to: date, *, now: datetime | None = None) -> TaxRate:
    """The rate ended on `effective_to` (exclusive); only ever shortened, never extended or reopened."""
    if effective_to <= rate.effective_from:
        raise ValidationFailed.single(
            "effective_to", f"must be after the rate's effective_from ({rate.effective_from.isoformat()})"
        )
    if rate.effective_to is not None and effective_to >= rate.effective_to:
        raise ValidationFailed.single(
            "effective_to",
            f"the rate already ends on {rate.effective_to.isoformat()}; a rate is only ever shortened "
            "(publish a new rate for later dates)",
            "not_shortened",
        )
    return replace(rate, effective_to=effective_to, updated_at=now or rate.updated_at)


def rate_for(
    rates: Iterable[TaxRate], *, country: str, region: str | None, tax_code: str | None, on: date
) -> TaxRate | None:
    """The most specific rate in force on `on` for a line of `tax_code` in (country, region), if any."""
    candidates = [rate for rate in rates if rate.applies_to(country, region, tax_code, on)]
    if not candidates:
        return None
    # Rates of one key never overlap, so the rank decides; the rest only makes the choice stable.
    return max(candidates, key=lambda rate: (rate.specificity, rate.effective_from, rate.id))


# --- the calculation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaxableLine:
    """One invoice line to tax: its id, its product's tax code and its (rounded, tax-exclusive) amount."""

    line_id: str
    tax_code: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TaxRequest:
    """What a calculator is asked: one invoice's account tax status, date, currency and lines."""

    account_tax: AccountTaxStatus
    invoice_date: date
    currency: str
    lines: Sequence[TaxableLine]


class TaxOutcome(StrEnum):
    """Why a line carries the tax it does."""

    TAXED = "taxed"
    EXEMPT = "exempt"
    NO_RATE = "no_rate"


@dataclass(frozen=True, slots=True)
class LineTax:
    """The tax of one line: the rate applied (if any), the rounded amount, and why."""

    line_id: str
    taxable_amount: Decimal
    amount: Decimal
    """The tax, rounded to the currency's minor units (0 when exempt or no rate)."""
    outcome: TaxOutcome
    rate: Decimal | None = None
    """Percent applied; None when exempt or no rate."""
    rate_id: str | None = None
    rate_name: str | None = None
    jurisdiction: str | None = None
    """The jurisdiction label ("US-CA") of the rate applied, or of the account when none was."""
    reason: str | None = None
    """Why no tax: the exemption ("Exempt: certificate EX-123 valid until 2027-12-31") or the
    missing rate ("No tax rate for US-CA, tax code SW050000, on 2026-08-01")."""


@dataclass(frozen=True, slots=True)
class TaxAssessment:
    """The tax of one invoice: one `LineTax` per line, in the lines' order, and a note for the invoice."""

    currency: str
    lines: tuple[LineTax, ...]
    note: str | None = None
    """What the invoice says about its tax as a whole: the exemption, or a certificate that
    does not exempt it (expired, missing)."""
    by_line: dict[str, LineTax] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_line", {line.line_id: line for line in self.lines})

    @property
    def total(self) -> Decimal:
        """The invoice's tax: the sum of the lines' rounded taxes."""
        return sum((line.amount for line in self.lines), Decimal(0))


class TaxCalculator(abc.ABC):
    """The port of tax calculation: the built-in rate table, or an external tax service's adapter.

    Implementations must return one `LineTax` per requested line (same ids, same order), each
    amount rounded to the currency's minor units, and must honour the account's exemption on the
    invoice date. Async because an external service answers over the network.
    """

    @abc.abstractmethod
    async def calculate(self, request: TaxRequest) -> TaxAssessment:
        """The tax of each line of one invoice."""


def exemption_reason(account_tax: AccountTaxStatus) -> str:
    """What an exempt invoice says: "Exempt: certificate EX-123 valid until 2027-12-31"."""
    until = (
        f"valid until {account_tax.certificate_expiry.isoformat()}"
        if account_tax.certificate_expiry
        else "with no expiry"
    )
    return f"Exempt: certificate {account_tax.certificate_number} {until}"


def _not_exempt_note(account_tax: AccountTaxStatus, invoice_date: date) -> str | None:
    """Why an account marked exempt is taxed on this invoice (None when it is simply taxable)."""
    if account_tax.treatment is not TaxTreatment.EXEMPT:
        return None
    if not account_tax.certificate_number:
        return "Taxed: the account is marked exempt but has no exemption certificate"
    assert account_tax.certificate_expiry is not None  # exempt_on is False only past the expiry
    return (
        f"Taxed: exemption certificate {account_tax.certificate_number} expired on "
        f"{account_tax.certificate_expiry.isoformat()}, before the invoice date {invoice_date.isoformat()}"
    )


RateChoice = Callable[[list[TaxRate], TaxJurisdiction, "str | None", date], "TaxRate | None"]
"""How a line's rate is chosen from the table: `rate_for`, or a calculator's memo of it."""


def _rate_of(rates: list[TaxRate], place: TaxJurisdiction, tax_code: str | None, on: date) -> TaxRate | None:
    return rate_for(rates, country=place.country, region=place.region, tax_code=tax_code, on=on)


def assess_tax(
    rates: Iterable[TaxRate], request: TaxRequest, *, choose: RateChoice = _rate_of
) -> TaxAssessment:
    """Tax each line of one invoice with the most specific rate in force on the invoice date."""
    account = request.account_tax
    if account.exempt_on(request.invoice_date):
        reason = exemption_reason(account)
        return TaxAssessment(
            currency=request.currency,
            lines=tuple(
                LineTax(line.line_id, line.amount, Decimal(0), TaxOutcome.EXEMPT, reason=reason)
                for line in request.lines
            ),
            note=reason,
        )
    note = _not_exempt_note(account, request.invoice_date)
    if not account.country:
        reason = "No tax rate: the account has no tax address"
        return TaxAssessment(
            currency=request.currency,
            lines=tuple(
                LineTax(line.line_id, line.amount, Decimal(0), TaxOutcome.NO_RATE, reason=reason)
                for line in request.lines
            ),
            note=note,
        )
    table = list(rates)
    place = TaxJurisdiction(account.country, account.region)
    return TaxAssessment(
        currency=request.currency,
        lines=tuple(_line_tax(table, place, line, request, choose) for line in request.lines),
        note=note,
    )


def _line_tax(
    rates: list[TaxRate], place: TaxJurisdiction, line: TaxableLine, request: TaxRequest, choose: RateChoice
) -> LineTax:
    rate = choose(rates, place, line.tax_code, request.invoice_date)
    if rate is None:
        code = f", tax code {line.tax_code}" if line.tax_code else ""
        return LineTax(
            line.line_id,
            line.amount,
            Decimal(0),
            TaxOutcome.NO_RATE,
            jurisdiction=place.label,
            reason=f"No tax rate for {place.label}{code}, on {request.invoice_date.isoformat()}",
        )
    return LineTax(
        line.line_id,
        line.amount,
        rate.tax_on(line.amount, request.currency),
        TaxOutcome.TAXED,
        rate=rate.rate,
        rate_id=rate.id,
        rate_name=rate.name,
        jurisdiction=rate.jurisdiction.label,
    )


CHOSEN_RATES_KEPT: Final = 1024
"""Choices a calculator keeps (a long-lived one asked for ever more days starts again)."""


class RateTableTaxCalculator(TaxCalculator):
    """The built-in calculator: a pure look-up in a table of published rates.

    `valid_on`, when given, is the one invoice date the table was loaded for (the bill run loads
    only the rates in force that day): asking for another date is a programming error.
    """

    def __init__(self, rates: Iterable[TaxRate], *, valid_on: date | None = None) -> None:
        self.rates = tuple(rates)
        self.valid_on = valid_on
        self._chosen: dict[tuple[str, str | None, str | None, date], TaxRate | None] = {}
        """The rate chosen for each (country, region, tax code, day): a bill run's chunk asks the
        same few, its table does not change, and choosing scanned the table for every line."""

    async def calculate(self, request: TaxRequest) -> TaxAssessment:
        """The tax of each line of one invoice, from the table."""
        return self.assess(request)

    def assess(self, request: TaxRequest) -> TaxAssessment:
        """The same as `calculate`, for synchronous callers (a preview, a test)."""
        if self.valid_on is not None and request.invoice_date != self.valid_on:
            raise ValueError(
                f"this rate table was loaded for {self.valid_on.isoformat()}, "
                f"not {request.invoice_date.isoformat()}"
            )
        return assess_tax(self.rates, request, choose=self._choose)

    def _choose(
        self, rates: list[TaxRate], place: TaxJurisdiction, tax_code: str | None, on: date
    ) -> TaxRate | None:
        key = (place.country, place.region, tax_code, on)
        if key not in self._chosen:
            if len(self._chosen) >= CHOSEN_RATES_KEPT:
                self._chosen.clear()
            self._chosen[key] = _rate_of(rates, place, tax_code, on)
        return self._chosen[key]
