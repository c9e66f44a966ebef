"""Money: ISO 4217 minor units, half-up rounding, strict decimal parsing and a `Money` value.

Every amount is a `Decimal`, never a float (DESIGN §6). Unit prices keep up to six decimals;
an invoice line is rounded once, to its currency's minor units, half up (DESIGN §7).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Final, overload

from libs.platform.errors import ValidationFailed

# Active ISO 4217 codes (List One) with their minor units. Codes whose minor unit is "N.A."
# (precious metals, SDR, test and bond-market units, XXX) are left out: nothing is billed in
# them. Withdrawn codes (HRK, BGN, ANG, SLL, CUC, ZWL, ...) are left out on purpose too.
_THREE_PLACES = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_PLACES = "CLF UYW"
_ZERO_PLACES = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_TWO_PLACES = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK "
    "LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO "
    "NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS "
    "SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST "
    "XCD XCG YER ZAR ZMW ZWG"
)

CURRENCY_MINOR_UNITS: Final[dict[str, int]] = {
    code: places
    for codes, places in (
        (_ZERO_PLACES, 0),
        (_TWO_PLACES, 2),
        (_THREE_PLACES, 3),
        (_FOUR_PLACES, 4),
    )
    for code in codes.split()
}

UNIT_PRICE_PLACES: Final = 6
MAX_INTEGER_DIGITS: Final = 18
# Without an explicit `max_places`, a parsed value may still not carry more decimals than
# this, so that no request can make the service work on absurdly long numbers.
MAX_FRACTION_DIGITS: Final = 18

# Enough digits that quantizing any value of at most 18 integer digits never overflows the
# context (the default 28 digits would raise InvalidOperation on large amounts).
_CONTEXT: Final = Context(prec=60, rounding=ROUND_HALF_UP)
_PLAIN_DECIMAL: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


class UnknownCurrency(ValidationFailed):
    """A currency code that is not an active ISO 4217 code."""


class CurrencyMismatch(ValidationFailed):
    """Amounts in two different currencies were combined."""


def is_known_currency(code: str) -> bool:
    """Tell whether `code` is an active ISO 4217 code (exact, upper case)."""
    return isinstance(code, str) and code in CURRENCY_MINOR_UNITS


def minor_units(currency: str) -> int:
    """Number of decimals of the currency's minor unit (USD 2, JPY 0, BHD 3, CLF 4)."""
    try:
        return CURRENCY_MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrency.single(
            "currency",
            f"{currency!r} is not an active ISO 4217 currency code",
            code="unknown_currency",
        ) from None


# 1, 0.1, 0.01, ... 0.000001: the steps money and unit prices are rounded to (built once).
_STEPS: Final = tuple(Decimal(1).scaleb(-places) for places in range(UNIT_PRICE_PLACES + 1))


def _quantize(amount: Decimal, places: int) -> Decimal:
    if not amount.is_finite():
        raise ValueError(f"cannot round non-finite amount {amount}")
    step = _STEPS[places] if 0 <= places < len(_STEPS) else Decimal(1).scaleb(-places)
    result = amount.quantize(step, rounding=ROUND_HALF_UP, context=_CONTEXT)
    # -0.001 rounds to -0.00; a negative zero must never reach an invoice.
    return result.copy_abs() if result.is_zero() else result


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor units, half away from zero (JPY 1234.5 → 1235)."""
    if isinstance(amount, Decimal) and amount.is_finite():
        # The result depends on the value only (10.5 and 10.50 round alike, to the same digits):
        # kept per (value, currency), as a bill run rounds the same few amounts over and over.
        return _rounded(amount, currency)
    return _quantize(amount, minor_units(currency))


@functools.lru_cache(maxsize=4096)
def _rounded(amount: Decimal, currency: str) -> Decimal:
    return _quantize(amount, minor_units(currency))


def round_unit_price(value: Decimal) -> Decimal:
    """Round a unit price to six decimals, half up."""
    return _quantize(value, UNIT_PRICE_PLACES)


# The wire format of money (DESIGN §7, issue 7 item 8), the same in every service's responses
# and event payloads:
# - a billed AMOUNT (list, discount, net, totals, a flat price's amount, a minimum commitment,
#   a minimum shortfall, an amount-off discount) has exactly its currency's minor units:
#   "3000.00" in USD, "1235" in JPY, "1.235" in BHD (`amount_out`);
# - a UNIT PRICE, a tier's price or flat fee, a quantity and an informational tier breakdown
#   (unrounded, DESIGN §7) are shown in their shortest exact form: "12", "0.000108", "37500"
#   (`unit_price_out`, `decimal_out`) — never padded with zeros, never rounded;
# - a PERCENT is rounded to four decimals, then shown in its shortest form (`percent_out`).
_PERCENT_STEP: Final = Decimal("0.0001")


@overload
def amount_out(value: Decimal, currency: str) -> Decimal: ...
@overload
def amount_out(value: None, currency: str) -> None: ...
def amount_out(value: Decimal | None, currency: str) -> Decimal | None:
    """A billed amount as shown: rounded half up to exactly the currency's minor units."""
    return None if value is None else round_money(value, currency)


@overload
def decimal_out(value: Decimal) -> Decimal: ...
@overload
def decimal_out(value: None) -> None: ...
def decimal_out(value: Decimal | None) -> Decimal | None:
    """The shortest exact form of a decimal (12.000000 → 12, 0.000108000 → 0.000108); no exponent."""
    if value is None:
        return None
    if value.is_zero():
        return Decimal(0)  # neither "0.000" nor "-0"
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), context=_CONTEXT)
    return Decimal(format(value.normalize(_CONTEXT), "f"))


@overload
def unit_price_out(value: Decimal) -> Decimal: ...
@overload
def unit_price_out(value: None) -> None: ...
def unit_price_out(value: Decimal | None) -> Decimal | None:
    """A unit price as shown: its shortest exact form ("150", "0.000108"), never padded."""
    return decimal_out(value)


@overload
def percent_out(value: Decimal) -> Decimal: ...
@overload
def percent_out(value: None) -> None: ...
def percent_out(value: Decimal | None) -> Decimal | None:
    """A percent as shown: rounded half up to four decimals, in its shortest form ("12.5")."""
    if value is None:
        return None
    return decimal_out(value.quantize(_PERCENT_STEP, rounding=ROUND_HALF_UP, context=_CONTEXT))


def decimal_places(value: Decimal | int) -> int:
    """Decimals a value carries; trailing zeros carry no precision ("10.50" has 1, "10.0" 0)."""
    if isinstance(value, int):
        return 0
    if not value.is_finite():
        raise ValueError(f"{value} has no decimal places")
    # Counted on the digits, not by normalize(), which would round a value longer than the
    # context's precision.
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing_zeros)) if any(digits) else 0


def minor_units_problem(amount: Decimal | int, currency: str) -> str | None:
    """Why `amount` cannot be an amount of `currency`, or None when it can.

    The one money-field rule: an amount in a currency (a flat price, a minimum commitment, an
    amount off) has at most the currency's minor units (JPY "10", USD "10.00", BHD "1.005"),
    so that what is stored is what is billed. Unit prices and tier prices are not amounts:
    they keep up to 6 decimals, and only the line is rounded.
    """
    if isinstance(amount, Decimal) and amount.is_finite():
        # The answer depends on the value only ("10.50" and "10.5" both have one decimal): kept
        # per (value, currency) — an invoice's amounts repeat, and `as_tuple()` builds a named
        # tuple a call (60,000 calls were ~6 % of a bill run's CPU).
        return _finite_problem(amount, currency)
    return _problem(amount, currency)


@functools.lru_cache(maxsize=4096)
def _finite_problem(amount: Decimal, currency: str) -> str | None:
    return _problem(amount, currency)


def _problem(amount: Decimal | int, currency: str) -> str | None:
    places = minor_units(currency)
    if isinstance(amount, Decimal) and amount.is_finite():
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent <= places:
            return None  # no more decimals written than the currency has (the common case)
    if decimal_places(amount) <= places:
        return None
    return f"must have at most {places} decimal place{'' if places == 1 else 's'} for {currency}"


def require_minor_units(amount: Decimal | int, currency: str, *, field: str) -> Decimal:
    """`amount` as a Decimal, or ValidationFailed naming `field` when `currency` cannot hold it."""
    problem = minor_units_problem(amount, currency)
    if problem is not None:
        raise ValidationFailed.single(field, problem, code="too_many_decimals")
    return Decimal(amount)


def parse_decimal(
    value: str,
    *,
    field: str,
    max_places: int | None = None,
    allow_negative: bool = False,
) -> Decimal:
    """Parse a plain decimal string such as "12.50" strictly, or raise ValidationFailed."""
    if not isinstance(value, str):
        raise ValidationFailed.single(field, 'must be a decimal string such as "12.50"')
    match = _PLAIN_DECIMAL.fullmatch(value)
    if match is None:
        raise ValidationFailed.single(
            field,
            f'{_shorten(value)!r} is not a plain decimal number such as "12.50" '
            "(no exponent, sign '+', spaces, NaN or Infinity)",
        )
    sign, integer, fraction = match.group(1), match.group(2), match.group(3) or ""
    # Digits are counted as written (leading zeros too) so that a JSON-schema pattern such as
    # `^[0-9]{1,18}(\.[0-9]{1,2})?$` describes exactly what is accepted.
    if sign and not allow_negative:
        raise ValidationFailed.single(field, "must not be negative")
    if len(integer) > MAX_INTEGER_DIGITS:
        raise ValidationFailed.single(
            field, f"must have at most {MAX_INTEGER_DIGITS} digits before the decimal point"
        )
    limit = MAX_FRACTION_DIGITS if max_places is None else max_places
    if len(fraction) > limit:
        raise ValidationFailed.single(
            field, f"must have at most {limit} decimal place{'' if limit == 1 else 's'}"
        )
    result = Decimal(value)
    return result.copy_abs() if result.is_zero() else result


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


@dataclass(frozen=True)
class Money:
    """An amount in one currency; adding or subtracting another currency is refused."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, Decimal | int):
            raise TypeError(f"Money amount must be a Decimal, not {type(self.amount).__name__}")
        if isinstance(self.amount, int):
            object.__setattr__(self, "amount", Decimal(self.amount))
        if not self.amount.is_finite():
            raise ValueError(f"Money amount must be finite, not {self.amount}")
        minor_units(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in the given currency."""
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch.single(
                "currency",
                f"cannot combine {self.currency} and {other.currency} amounts",
                code="currency_mismatch",
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        """The amount rounded to the currency's minor units, half up."""
        return Money(round_money(self.amount, self.currency), self.currency)

    def format(self) -> str:
        """The rounded amount with exactly the currency's minor-unit places, e.g. "12.50"."""
        return format(round_money(self.amount, self.currency), "f")

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"


def sum_money(amounts: Iterable[Money | Decimal], currency: str) -> Money:
    """Add amounts in one currency (zero when empty); a Money in another currency is refused."""
    total = Money.zero(currency)
    for item in amounts:
        total = total + (item if isinstance(item, Money) else Money(item, currency))
    return total
