"""Reading a lockbox file and where each line's money goes, with plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from invoicing.domain.lockbox import (
    InvoiceOnFile,
    LineStatus,
    content_hash,
    read_lockbox_file,
    target_of,
)
from libs.platform.errors import ValidationFailed

FILE = (
    b"check_number,amount,invoice_number,account_id,deposit_date\n"
    b"10442,1250.00,INV-2026-000042,,2026-08-03\n"
    b"10443,300.00,,acct_2,2026-08-03\n"
    b"10444,12.5x,,,2026-08-03\n"
    b"\n"
    b"10445,99.00,INV-1999-000001,,2026-08-04\n"
)
OPEN_42 = InvoiceOnFile("inv_42", "INV-2026-000042", "acct_1", "USD", Decimal("1000.00"), True)


def test_a_file_reads_line_by_line_skipping_blank_lines_and_naming_what_does_not_read() -> None:
    lines = read_lockbox_file(FILE)
    assert [(line.number, line.check_number, line.amount, line.deposit_date) for line in lines] == [
        (1, "10442", Decimal("1250.00"), date(2026, 8, 3)),
        (2, "10443", Decimal("300.00"), date(2026, 8, 3)),
        (3, "10444", None, date(2026, 8, 3)),
        (5, "10445", Decimal("99.00"), date(2026, 8, 4)),
    ]
    assert lines[2].problem == "amount '12.5x' is not a positive decimal"
    assert lines[0].invoice_number == "INV-2026-000042" and lines[0].account_id is None


def test_columns_may_come_in_any_order_and_a_missing_required_one_is_a_422() -> None:
    lines = read_lockbox_file(b"deposit_date,amount,check_number,currency\n2026-08-03,1000,7,JPY\n")
    assert (lines[0].amount, lines[0].currency) == (Decimal("1000"), "JPY")
    with pytest.raises(ValidationFailed, match="lacks amount"):
        read_lockbox_file(b"check_number,deposit_date\n1,2026-08-03\n")
    with pytest.raises(ValidationFailed):
        read_lockbox_file(b"\xff\xfe")


def test_a_jpy_check_with_decimals_does_not_read() -> None:
    (line,) = read_lockbox_file(b"check_number,amount,deposit_date,currency\n1,10.5,2026-08-03,JPY\n")
    assert line.amount is None and line.problem == "amount 10.5 has more decimals than JPY has"


def test_the_same_bytes_have_the_same_hash() -> None:
    assert content_hash(FILE) == content_hash(bytes(FILE)) != content_hash(FILE + b"\n")


def test_where_lines_go() -> None:
    check, by_account, unreadable, unknown = read_lockbox_file(FILE)
    over = target_of(check, OPEN_42, None)
    assert (over.status, over.invoice_id) == (LineStatus.PARTLY_MATCHED, "inv_42")
    assert over.reason == "the check is 250.00 more than invoice INV-2026-000042 owed: kept as account credit"
    exact = target_of(
        check, InvoiceOnFile("inv_42", "INV-2026-000042", "acct_1", "USD", Decimal("1250.00"), True), None
    )
    assert exact.status is LineStatus.MATCHED and exact.reason is None

    to_account = target_of(by_account, None, "USD")
    assert (to_account.status, to_account.account_id, to_account.invoice_id) == (
        LineStatus.PARTLY_MATCHED,
        "acct_2",
        None,
    )
    assert to_account.reason == "no invoice number: applied to account acct_2's open invoices, oldest first"
    assert target_of(by_account, None, None).status is LineStatus.UNMATCHED

    assert target_of(unreadable, None, None).reason == "amount '12.5x' is not a positive decimal"
    lost = target_of(unknown, None, None)
    assert (lost.status, lost.reason) == (
        LineStatus.UNMATCHED,
        "invoice INV-1999-000001 is unknown; no account we know is named",
    )


def test_a_closed_invoice_sends_the_check_to_its_account() -> None:
    (line,) = read_lockbox_file(
        b"check_number,amount,invoice_number,deposit_date\n1,50.00,INV-2026-000042,2026-08-03\n"
    )
    paid = InvoiceOnFile("inv_42", "INV-2026-000042", "acct_1", "USD", Decimal("0.00"), False)
    target = target_of(line, paid, None)
    assert (target.status, target.account_id, target.currency) == (LineStatus.PARTLY_MATCHED, "acct_1", "USD")
    assert (
        target.reason
        == "invoice INV-2026-000042 is not open: applied to account acct_1's open invoices, oldest first"
    )
