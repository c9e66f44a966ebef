"""Tax rules on plain values: per-line rounding, the most specific rate, effective dates,
exemptions, missing rates, and what a rate table refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.domain.tax import (
    CHOSEN_RATES_KEPT,
    RateTableTaxCalculator,
    TaxOutcome,
    TaxRate,
    assess_tax,
    check_no_overlap,
    check_tax_rate,
    end_tax_rate,
    rate_for,
)
from libs.platform.errors import ValidationFailed
from libs.platform.money import round_money
from tests.invoicing.unit.factories_tax import AUGUST_1, exempt, line, request, tax_rate, taxable

# --- per-line rounding ---------------------------------------------------------------------------


def test_each_line_is_rounded_half_up_and_the_total_is_their_sum() -> None:
    # 20 % of 0.025 is 0.005, which rounds up to 0.01 on each line: 0.03 in all, where a tax on
    # the 0.075 total would have been 0.015 → 0.02.
    lines = [line("0.025"), line("0.025"), line("0.025")]
    assessment = assess_tax([tax_rate("20")], request(*lines))
    assert [t.amount for t in assessment.lines] == [Decimal("0.01")] * 3
    assert assessment.total == Decimal("0.03")
    assert [t.line_id for t in assessment.lines] == [x.line_id for x in lines]


def test_jpy_tax_has_no_decimals_and_bhd_three() -> None:
    jp = tax_rate("10", country="JP", name="Consumption tax")
    bh = tax_rate("10", country="BH")
    jpy = assess_tax([jp], request(line("12345"), line("15"), account=taxable("JP"), currency="JPY"))
    assert [t.amount for t in jpy.lines] == [Decimal("1235"), Decimal("2")]  # 1234.5 → 1235, 1.5 → 2
    assert jpy.total == Decimal("1237")
    bhd = assess_tax([bh], request(line("12.345"), account=taxable("BH"), currency="BHD"))
    assert bhd.lines[0].amount == Decimal("1.235")  # 1.2345 → 1.235
    assert (bhd.lines[0].rate, bhd.lines[0].rate_name, bhd.lines[0].jurisdiction) == (
        Decimal("10"),
        "VAT",
        "BH",
    )


@given(
    amounts=st.lists(
        st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=3),
        min_size=1,
        max_size=20,
    ),
    rate=st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=4),
    currency=st.sampled_from(["USD", "JPY", "BHD", "EUR"]),
)
def test_the_tax_total_is_the_sum_of_lines_each_rounded_once(
    amounts: list[Decimal], rate: Decimal, currency: str
) -> None:
    amounts = [round_money(a, currency) for a in amounts]
    lines = [line(str(a)) for a in amounts]
    assessment = assess_tax([tax_rate(str(rate))], request(*lines, currency=currency))
    expected = [round_money(a * rate / 100, currency) for a in amounts]
    assert [t.amount for t in assessment.lines] == expected
    assert assessment.total == sum(expected, Decimal(0))
    for tax in assessment.lines:
        assert tax.amount == round_money(tax.amount, currency)  # already at minor units
        assert abs(tax.amount) <= abs(tax.taxable_amount) or tax.taxable_amount == 0


# --- the most specific rate wins -----------------------------------------------------------------

COUNTRY = tax_rate("6", country="US", name="Federal")
COUNTRY_CODE = tax_rate("4", country="US", tax_code="SW050000", name="Federal software")
REGION = tax_rate("7.25", country="US", region="CA", name="Sales tax")
REGION_CODE = tax_rate("0", country="US", region="CA", tax_code="SW050000", name="Software exempt")
ALL = [COUNTRY, COUNTRY_CODE, REGION, REGION_CODE]


@pytest.mark.parametrize(
    ("rates", "region", "code", "expected"),
    [
        (ALL, "CA", "SW050000", REGION_CODE),
        (ALL, "CA", "OTHER", REGION),
        (ALL, "NY", "SW050000", COUNTRY_CODE),
        (ALL, "NY", "OTHER", COUNTRY),
        (ALL, None, None, COUNTRY),
        ([COUNTRY, COUNTRY_CODE, REGION], "CA", "SW050000", REGION),  # region beats country + code
        ([COUNTRY_CODE], "CA", "OTHER", None),
    ],
)
def test_the_most_specific_rate_in_force_wins(
    rates: list[TaxRate], region: str | None, code: str | None, expected: TaxRate | None
) -> None:
    assert rate_for(rates, country="US", region=region, tax_code=code, on=AUGUST_1) == expected


def test_regions_compare_ignoring_case_and_spaces_and_a_zero_rate_is_a_rate() -> None:
    assessment = assess_tax(ALL, request(line("100.00"), account=taxable("US", " ca "), currency="USD"))
    tax = assessment.lines[0]
    assert (tax.outcome, tax.amount, tax.rate, tax.rate_name, tax.jurisdiction) == (
        TaxOutcome.TAXED,
        Decimal("0.00"),
        Decimal("0"),
        "Software exempt",
        "US-CA",
    )


def test_effective_dates_are_half_open() -> None:
    old = tax_rate("17.5", effective_from=date(2008, 12, 1), effective_to=date(2010, 1, 1))
    new = tax_rate("15", effective_from=date(2010, 1, 1), effective_to=date(2011, 1, 4))
    rates = [old, new]
    assert rate_for(rates, country="GB", region=None, tax_code=None, on=date(2009, 12, 31)) == old
    assert rate_for(rates, country="GB", region=None, tax_code=None, on=date(2010, 1, 1)) == new
    assert rate_for(rates, country="GB", region=None, tax_code=None, on=date(2011, 1, 4)) is None
    assert rate_for(rates, country="GB", region=None, tax_code=None, on=date(2008, 11, 30)) is None


# --- exemptions and missing rates ----------------------------------------------------------------


def test_an_exempt_account_with_a_valid_certificate_pays_none_and_the_invoice_says_why() -> None:
    on_expiry = request(
        line("100.00"), line("50.00"), account=exempt(), on=date(2027, 12, 31), currency="USD"
    )
    assessment = assess_tax(ALL, on_expiry)
    reason = "Exempt: certificate EX-123 valid until 2027-12-31"
    assert assessment.total == Decimal(0)
    assert assessment.note == reason
    assert {(t.outcome, t.amount, t.reason) for t in assessment.lines} == {
        (TaxOutcome.EXEMPT, Decimal(0), reason)
    }
    forever = assess_tax(ALL, request(line("100.00"), account=exempt(expiry=None), currency="USD"))
    assert forever.note == "Exempt: certificate EX-123 with no expiry"


def test_an_expired_or_missing_certificate_is_taxed_and_says_so() -> None:
    expired = assess_tax(
        ALL, request(line("100.00", "X"), account=exempt(), on=date(2028, 1, 1), currency="USD")
    )
    assert expired.total == Decimal("7.25")
    assert expired.note is not None and "EX-123 expired on 2027-12-31" in expired.note
    missing = assess_tax(ALL, request(line("100.00", "X"), account=exempt(certificate=None), currency="USD"))
    assert missing.total == Decimal("7.25")
    assert missing.note is not None and "no exemption certificate" in missing.note


def test_no_rate_is_zero_tax_with_a_reason() -> None:
    assessment = assess_tax([COUNTRY_CODE], request(line("100.00", "OTHER"), account=taxable("US", "CA")))
    tax = assessment.lines[0]
    assert (tax.outcome, tax.amount, tax.rate) == (TaxOutcome.NO_RATE, Decimal(0), None)
    assert tax.reason == "No tax rate for US-CA, tax code OTHER, on 2026-08-01"
    homeless = assess_tax(ALL, request(line("100.00"), account=taxable(None)))
    assert homeless.lines[0].reason == "No tax rate: the account has no tax address"
    assert homeless.total == Decimal(0)


async def test_the_rate_table_calculator_answers_for_its_date_only() -> None:
    calculator = RateTableTaxCalculator([tax_rate("20")], valid_on=AUGUST_1)
    assessment = await calculator.calculate(request(line("10.00")))
    assert assessment.total == Decimal("2.00")
    assert assessment.by_line[assessment.lines[0].line_id].rate_name == "VAT"
    with pytest.raises(ValueError, match="loaded for 2026-08-01"):
        await calculator.calculate(request(line("10.00"), on=date(2026, 8, 2)))


def test_the_rate_table_calculator_taxes_as_the_table_does_invoice_after_invoice() -> None:
    """The calculator keeps the rate it chose for a place and code (a chunk asks the same few):
    asked again, for other places and codes in any order, it answers what the table says."""
    calculator = RateTableTaxCalculator(ALL, valid_on=AUGUST_1)
    asks = [(region, code) for region in ("CA", " ca ", "NY", None) for code in ("SW050000", "OTHER", None)]
    for region, code in [*asks, *reversed(asks), *asks]:
        ask = request(line("100.00", tax_code=code), account=taxable("US", region), currency="USD")
        assert calculator.assess(ask).lines == assess_tax(ALL, ask).lines


def test_the_rate_table_calculator_keeps_a_bounded_number_of_choices() -> None:
    calculator = RateTableTaxCalculator(ALL)
    for n in range(CHOSEN_RATES_KEPT + 10):
        ask = request(line("1.00", tax_code=f"C{n}"), account=taxable("US", "CA"), currency="USD")
        assert calculator.assess(ask).lines[0].rate_name == "Sales tax"
    assert len(calculator._chosen) <= CHOSEN_RATES_KEPT


# --- what a rate table refuses -------------------------------------------------------------------


def _fields(error: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in error.value.errors]


def test_bad_rates_are_refused_with_field_errors() -> None:
    with pytest.raises(ValidationFailed) as error:
        check_tax_rate(
            tax_rate(
                "101",
                country="XX",
                region="  ",
                effective_from=date(2026, 2, 1),
                effective_to=date(2026, 2, 1),
            )
        )
    assert _fields(error) == ["country", "region", "rate", "effective_to"]


def test_overlapping_periods_of_one_key_are_refused_others_are_not() -> None:
    stored = tax_rate("20", effective_from=date(2026, 1, 1), effective_to=date(2026, 7, 1))
    check_no_overlap(tax_rate("21", effective_from=date(2026, 7, 1)), [stored])  # adjacent
    check_no_overlap(tax_rate("5", tax_code="FOOD"), [stored])  # another key
    check_no_overlap(tax_rate("5", region="Wales"), [stored])
    with pytest.raises(ValidationFailed) as error:
        check_no_overlap(tax_rate("21", effective_from=date(2026, 6, 30)), [stored])
    assert _fields(error) == ["effective_from", "effective_to"]
    assert stored.id in error.value.errors[0].message
    with pytest.raises(ValidationFailed):
        check_no_overlap(tax_rate("21", effective_from=date(2025, 1, 1), effective_to=None), [stored])
    region = tax_rate("5", country="US", region="CA")
    with pytest.raises(ValidationFailed):
        check_no_overlap(tax_rate("6", country="US", region="ca"), [region])


def test_a_rate_is_only_ever_shortened() -> None:
    rate = tax_rate("20", effective_from=date(2026, 1, 1))
    ended = end_tax_rate(rate, date(2026, 7, 1))
    assert (ended.effective_to, ended.rate, ended.id) == (date(2026, 7, 1), rate.rate, rate.id)
    assert end_tax_rate(ended, date(2026, 6, 1)).effective_to == date(2026, 6, 1)
    for bad in (date(2026, 1, 1), date(2026, 7, 1), date(2026, 8, 1)):
        with pytest.raises(ValidationFailed):
            end_tax_rate(ended, bad)
