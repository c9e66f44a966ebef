"""A resold commitment's expected annual vendor invoices (seed 000 / EXAMPLES §1), to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.contracts.vocabulary import TierMode
from libs.platform.errors import ValidationFailed
from overage.domain.vendor_commitments import CommitmentRequest, CommitmentSource, VendorCommitment
from tests.overage.factories import TERM_END, TERM_START, cost_book_version

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _request(seats: str = "250", start: date = TERM_START, end: date = TERM_END) -> CommitmentRequest:
    return CommitmentRequest(
        vendor_id="ven_monet",
        account_id="acct_acme",
        subscription_id="sub_wfm",
        product_id="prod_wfm_seat",
        seats=Decimal(seats),
        term_start=start,
        term_end=end,
        source=CommitmentSource.SUBSCRIPTION,
    )


def _expected(commitment: VendorCommitment) -> list[tuple[date, date, str]]:
    return [(e.period_start, e.period_end, str(e.amount)) for e in commitment.expected_invoices]


def test_three_year_commitment_of_250_seats_expects_three_annual_invoices_of_30000() -> None:
    # 250 seats fall in the 101-500 band: 10.00 a seat a month; 250 x 10.00 x 12 = 30,000.00 a year.
    commitment = VendorCommitment.commit(
        id="vcom_1", request=_request(), cost_book=cost_book_version(), at=AT
    )
    assert _expected(commitment) == [
        (date(2026, 3, 1), date(2027, 3, 1), "30000.00"),
        (date(2027, 3, 1), date(2028, 3, 1), "30000.00"),
        (date(2028, 3, 1), date(2029, 3, 1), "30000.00"),
    ]
    assert [e.invoice_date for e in commitment.expected_invoices] == [
        date(2026, 3, 1),
        date(2027, 3, 1),
        date(2028, 3, 1),
    ]
    assert commitment.unit_cost == Decimal("10.00")
    assert commitment.annual_amount == Decimal("30000.00")
    assert commitment.total_amount == Decimal("90000.00")


def test_the_band_is_the_committed_seats_band() -> None:
    # 80 seats: 1-100 band at 12.00 -> 80 x 12.00 x 12 = 11,520.00; 600 seats: 8.50 -> 61,200.00.
    small = VendorCommitment.commit(id="vcom_s", request=_request("80"), cost_book=cost_book_version(), at=AT)
    large = VendorCommitment.commit(
        id="vcom_l", request=_request("600"), cost_book=cost_book_version(), at=AT
    )
    assert {str(e.amount) for e in small.expected_invoices} == {"11520.00"}
    assert {str(e.amount) for e in large.expected_invoices} == {"61200.00"}


def test_a_graduated_book_bills_each_band_at_its_price() -> None:
    # EXAMPLES §1: 100 x 12.00 + 150 x 10.00 = 2,700.00 a month -> 32,400.00 a year.
    commitment = VendorCommitment.commit(
        id="vcom_g", request=_request(), cost_book=cost_book_version(TierMode.GRADUATED), at=AT
    )
    assert {str(e.amount) for e in commitment.expected_invoices} == {"32400.00"}
    assert commitment.unit_cost == Decimal("10.8")


def test_a_term_of_30_months_ends_on_a_half_year_billed_for_its_days() -> None:
    # Year 3 is [2028-03-01, 2028-09-01): 184 of the 365 days of [2028-03-01, 2029-03-01)
    # -> 30,000.00 x 184 / 365 = 15,123.287... -> 15,123.29.
    commitment = VendorCommitment.commit(
        id="vcom_p", request=_request(end=date(2028, 9, 1)), cost_book=cost_book_version(), at=AT
    )
    assert _expected(commitment) == [
        (date(2026, 3, 1), date(2027, 3, 1), "30000.00"),
        (date(2027, 3, 1), date(2028, 3, 1), "30000.00"),
        (date(2028, 3, 1), date(2028, 9, 1), "15123.29"),
    ]


def test_a_term_starting_on_29_february_falls_on_28_february_in_other_years() -> None:
    commitment = VendorCommitment.commit(
        id="vcom_leap",
        request=_request(start=date(2028, 2, 29), end=date(2030, 2, 28)),
        cost_book=cost_book_version(),
        at=AT,
    )
    assert [(e.period_start, e.period_end) for e in commitment.expected_invoices] == [
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2029, 2, 28), date(2030, 2, 28)),
    ]


@pytest.mark.parametrize(
    ("seats", "end", "field"),
    [
        ("0", TERM_END, "seats"),
        ("-1", TERM_END, "seats"),
        ("250", TERM_START, "term_end"),
        ("250", date(2026, 2, 1), "term_end"),
        ("250", date(2036, 3, 2), "term_end"),
    ],
)
def test_seats_and_terms_that_cannot_be_are_refused(seats: str, end: date, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        VendorCommitment.commit(
            id="vcom_x", request=_request(seats, end=end), cost_book=cost_book_version(), at=AT
        )
    assert [e.field for e in refused.value.errors] == [field]
