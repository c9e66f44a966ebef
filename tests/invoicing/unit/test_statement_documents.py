"""What statement documents print: the summary that adds up, charges and credits in their columns,
the running balance, a credit balance, escaping, the PDF's text."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from invoicing.documents.html import render_statement_html
from invoicing.documents.pdf_layout import can_draw
from invoicing.documents.statement_pdf import render_statement_pdf
from invoicing.documents.statement_view import statement_document
from invoicing.documents.view import Issuer
from invoicing.domain.statements import EntryKind, Statement
from invoicing.handlers.statements import AccountStatement
from tests.invoicing.factories import billing_account
from tests.invoicing.unit.test_statements import AUGUST, entry, example_9

ISSUER = Issuer(
    "Northwind Reseller LLC", ("200 Park Avenue",), "US 12-3456789", payment_instructions="IBAN X"
)


def _pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_example_9_prints_its_summary_and_running_balance() -> None:
    document = statement_document(AccountStatement(billing_account(), example_9()), ISSUER)
    assert document.summary == [
        ("Previous balance", "$1,000.00"),
        ("Payments", "-$600.00"),
        ("Adjustments and credit notes", "-$50.00"),
        ("New invoices", "$300.00"),
    ]
    assert (document.balance_label, document.balance, document.state) == (
        "Balance due",
        "$650.00",
        "AMOUNT DUE",
    )
    assert [(line.reference, line.charge, line.credit, line.balance) for line in document.lines] == [
        ("", "", "", "$1,000.00"),
        ("PAY_1", "", "$600.00", "$400.00"),
        ("CN_1", "", "$50.00", "$350.00"),
        ("INV_3", "$300.00", "", "$650.00"),
    ]
    assert document.lines[1].description == "Payment received"
    assert "IBAN X" in document.notes

    text = _pdf_text(render_statement_pdf(document))
    for shown in (
        "STATEMENT",
        "Previous balance $1,000.00",
        "Payments -$600.00",
        "Adjustments and credit notes -$50.00",
        "New invoices $300.00",
        "Balance due $650.00",
        "Aug 5, 2026 PAY_1 Payment received $600.00 $400.00",
    ):
        assert shown in text, shown


def test_a_credit_balance_is_labelled_so_and_nothing_is_asked_to_pay() -> None:
    statement = Statement.of(
        account_id="acct_1",
        currency="USD",
        period=AUGUST,
        previous_balance=Decimal("20.00"),
        entries=[entry(EntryKind.CREDIT_NOTE, date(2026, 8, 3), "45.00", "cn_9")],
    )
    document = statement_document(AccountStatement(billing_account(), statement), ISSUER)
    assert (document.balance_label, document.balance, document.state) == (
        "Credit balance",
        "$25.00",
        "CREDIT BALANCE",
    )
    assert any("You have a credit of $25.00" in note for note in document.notes)
    assert "IBAN X" not in document.notes


def test_a_child_billed_to_its_parent_and_yen_in_the_pdf() -> None:
    child = billing_account("acct_c", currency="JPY", parent_account_id="acct_p", bills_to_parent=True)
    statement = Statement.of(
        account_id="acct_c", currency="JPY", period=AUGUST, previous_balance=Decimal("1235"), entries=[]
    )
    document = statement_document(AccountStatement(child, statement), ISSUER, drawable=can_draw)
    assert document.balance == "¥1,235"
    # Japanese uses the fullwidth yen, which the PDF font cannot draw: the ISO code instead.
    japanese = statement_document(
        AccountStatement(child, statement), ISSUER, locale_name="ja_JP", drawable=can_draw
    )
    assert japanese.balance == "1,235\xa0JPY"
    assert any("parent account acct_p" in note for note in document.notes)


def test_a_german_account_reads_its_statement_in_german_formats() -> None:
    account = billing_account(currency="EUR", locale="de_DE")
    statement = Statement.of(
        account_id="acct_1",
        currency="EUR",
        period=AUGUST,
        previous_balance=Decimal("1000.00"),
        entries=[entry(EntryKind.INVOICE, date(2026, 8, 5), "234.56", "INV_7")],
    )
    document = statement_document(AccountStatement(account, statement), ISSUER, drawable=can_draw)

    assert document.locale == "de_DE"
    assert (document.balance_label, document.balance) == ("Balance due", "1.234,56\xa0€")
    assert document.summary[0] == ("Previous balance", "1.000,00\xa0€")
    assert [(line.date, line.charge, line.balance) for line in document.lines] == [
        ("01.08.2026", "", "1.000,00\xa0€"),
        ("05.08.2026", "234,56\xa0€", "1.234,56\xa0€"),
    ]
    assert 'lang="de"' in render_statement_html(document)
    text = _pdf_text(render_statement_pdf(document))
    assert "1.234,56" in text and "05.08.2026" in text and "1,234.56" not in text


def test_an_account_without_a_locale_reads_en_us() -> None:
    document = statement_document(AccountStatement(billing_account(), example_9()), ISSUER)
    assert (document.locale, document.balance) == ("en_US", "$650.00")


def test_the_html_escapes_names_from_other_systems() -> None:
    account = billing_account(name="<script>alert(1)</script> & Co")
    html = render_statement_html(statement_document(AccountStatement(account, example_9()), ISSUER))
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Balance brought forward" in html and "$650.00" in html


def test_a_japanese_account_name_is_in_the_statement_pdf() -> None:
    account = billing_account(name="株式会社ヤマダ商事 経理部", locale="ja_JP")
    document = statement_document(AccountStatement(account, example_9()), ISSUER, drawable=can_draw)
    text = _pdf_text(render_statement_pdf(document))
    assert "株式会社ヤマダ商事 経理部" in text
