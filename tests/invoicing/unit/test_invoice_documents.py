"""What invoice documents print: amounts for the currency and locale, periods, taxes, notes."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel import Locale
from pypdf import PdfReader

from invoicing.documents.html import render_html
from invoicing.documents.pdf import render_pdf
from invoicing.documents.pdf_layout import can_draw
from invoicing.documents.view import Issuer, document_locale, format_amount, format_period, invoice_document
from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.domain.invoices import BillTo
from tests.invoicing.factories import draft, invoice_line

ISSUER = Issuer("Northwind Reseller LLC", ("200 Park Avenue",), "US 12-3456789")
EN_US = Locale.parse("en_US")
NOW = datetime(2026, 8, 1, 16, tzinfo=UTC)


def test_amounts_have_the_currencys_iso_minor_units_in_the_locales_format() -> None:
    assert format_amount(Decimal("36000.00"), "USD", EN_US) == "$36,000.00"
    assert format_amount(Decimal("-1234.50"), "EUR", Locale.parse("de_DE")) == "-1.234,50\xa0€"
    assert format_amount(Decimal("1.235"), "BHD", EN_US) == "BHD1.235"
    # CLDR shows IQD without decimals; ISO 4217 (and so the invoice) has three.
    assert format_amount(Decimal("10.500"), "IQD", EN_US) == "IQD10.500"
    assert format_amount(Decimal("1235"), "JPY", EN_US, symbol=False) == "1,235\xa0JPY"
    assert format_amount(Decimal("0.0075"), "USD", EN_US, max_places=6) == "$0.0075"


def test_a_period_shows_its_last_day_and_an_unknown_locale_falls_back() -> None:
    assert format_period(date(2026, 8, 1), date(2026, 9, 1), EN_US) == "Aug 1, 2026 \u2013 Aug 31, 2026"
    assert str(document_locale("xx_NOPE")) == "en_US"
    assert str(document_locale("de-DE")) == "de_DE"


def test_the_document_of_an_issued_invoice() -> None:
    invoice = draft(
        invoice_line("a", quantity="250", unit_price="144.00"),
        invoice_line("b", quantity="1", unit_price="5000", discount="500.00", tax_rate="0"),
        memo="PO 4711",
    )
    invoice.finalize(
        number=DocumentNumber("INV-2026", 42), invoice_date=date(2026, 8, 1), at=datetime.now(UTC)
    )
    document = invoice_document(invoice, ISSUER)
    assert document.title == "Invoice" and document.watermark is None
    assert ("Due date", "Aug 31, 2026") in document.facts
    assert document.totals[-1] == ("Total", "$43,695.00")
    assert document.amount_due == "$43,695.00"
    assert [(t.label, t.taxable, t.tax) for t in document.taxes] == [
        ("US-NY 0%", "$4,500.00", "$0.00"),
        ("US-NY 8.875%", "$36,000.00", "$3,195.00"),
    ]
    assert document.notes[0] == "PO 4711"
    assert "quoting invoice number INV-2026-000042" in document.notes[1]


def test_an_exempt_draft_says_so_and_is_marked_draft() -> None:
    invoice = draft(
        invoice_line("a", tax_rate="0"),
        tax_exemption_note="Tax exempt: certificate EX-2026-114 (valid to 2027-12-31)",
    )
    document = invoice_document(invoice, ISSUER)
    assert document.watermark == "DRAFT" and document.title == "Draft invoice"
    assert document.notes == ["Tax exempt: certificate EX-2026-114 (valid to 2027-12-31)"]
    assert "Tax exempt: certificate EX-2026-114" in render_html(document)
    assert render_pdf(document).startswith(b"%PDF")


def test_the_pdf_font_draws_latin_text_and_the_common_symbols() -> None:
    assert can_draw("Müller & Søn $ € £ ¥")
    assert not can_draw("\uffe5")  # the fullwidth yen of ja_JP: amounts then show "JPY"


def _fonts_drawing(pdf: bytes) -> set[str]:
    """The base names of the fonts the PDF's pages draw with."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("株式会社ヤマダ商事", "HeiseiKakuGo-W5"),  # kana: Japanese
        ("北京朝阳科技有限公司", "STSong-Light"),  # Han only: Chinese
        ("주식회사 한빛상사", "HYGothic-Medium"),  # Hangul: Korean
    ],
)
def test_a_cjk_bill_to_is_drawn_with_a_font_that_has_its_glyphs(name: str, font: str) -> None:
    bill_to = BillTo(name=name, customer_id="cus_1", email="経理@example.jp", country="JP", region="13")
    invoice = draft(invoice_line("a", quantity="1", unit_price="100.00"), bill_to=bill_to)
    pdf = render_pdf(invoice_document(invoice, ISSUER, drawable=can_draw))

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert name in text and "Acme" not in text
    assert "経理@example.jp" in text
    # Drawn in a CJK font (no boxes), the Latin text still in the embedded Vera.
    assert {font, "BitstreamVeraSans-Roman"} <= _fonts_drawing(pdf)


def test_credit_carried_to_the_account_is_a_total_of_its_own_not_a_taxable_line() -> None:
    invoice = draft(
        invoice_line("a", quantity="1", unit_price="450.00", tax_rate="7.25"),
        invoice_line("adjustment:adj_1", quantity="1", unit_price="-1000.00", tax_rate="7.25"),
    )
    invoice.finalize(number=DocumentNumber("INV-2026", 7), invoice_date=date(2026, 5, 1), at=NOW)
    document = invoice_document(invoice, ISSUER)
    # 450.00 + 32.63 - 1,000.00 - 72.50 = -589.87, carried: the invoice is 0.00.
    assert document.totals == [
        ("Subtotal (excl. tax)", "-$550.00"),
        ("Tax", "-$39.87"),
        ("Credit carried to your account", "$589.87"),
        ("Total", "$0.00"),
    ]
    assert len(document.lines) == 2
    assert [(t.label, t.taxable, t.tax) for t in document.taxes] == [("US-NY 7.25%", "-$550.00", "-$39.87")]
    assert any("$589.87 is carried to your account" in note for note in document.notes)
    pdf = PdfReader(io.BytesIO(render_pdf(document)))
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    assert "Credit carried to your account" in text and "$589.87" in text
