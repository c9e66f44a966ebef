"""An invoice as a PDF a finance team sends (ReportLab: pure Python, no system libraries).

Letter paper for US and Canadian locales, A4 elsewhere. The text is set in Bitstream Vera,
which ReportLab ships, embedded in the file (a standard PDF font would lose characters outside
Latin-1 and look different on every reader). Each page carries the invoice number and its page
number; a draft or a void invoice is marked across every page.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from invoicing.documents.statement_view import StatementDocument
from invoicing.documents.view import InvoiceDocument

Letterhead = InvoiceDocument | StatementDocument
"""A document with an issuer, a title, facts and a bill-to block (laid out the same way)."""

_FONTS = Path(reportlab.__file__).parent / "fonts"
REGULAR, BOLD = "InvoiceSans", "InvoiceSans-Bold"
_LETTER_COUNTRIES = ("_US", "_CA", "_PH", "_MX")
_GREY = colors.HexColor("#666666")
_RULE = colors.HexColor("#dddddd")


def can_draw(text: str) -> bool:
    """True when the embedded font has a glyph for every character of `text`."""
    _register_fonts()
    glyphs = pdfmetrics.getFont(REGULAR).face.charToGlyph
    return all(ord(ch) in glyphs or ch.isspace() for ch in text)


def _register_fonts() -> None:
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(_FONTS / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(_FONTS / "VeraBd.ttf")))


def _style(name: str, size: float = 9, *, bold: bool = False, **kw: Any) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=BOLD if bold else REGULAR, fontSize=size, leading=size * 1.3, **kw)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def page_frame(document: Any, buffer: io.BytesIO) -> SimpleDocTemplate:
    """The page every document is laid out on: Letter where the locale expects it (US, Canada,
    the Philippines, Mexico), else A4, with the document's title and issuer as PDF metadata."""
    return SimpleDocTemplate(
        buffer,
        pagesize=LETTER if document.locale.endswith(_LETTER_COUNTRIES) else A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=f"{document.title} {document.number}",
        author=document.issuer.name,
        subject=f"{document.title} {document.number}",
    )


def render_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes."""
    _register_fonts()
    buffer = io.BytesIO()
    frame = page_frame(document, buffer)
    width = frame.width - 12  # the frame's own padding: 6 pt each side
    story: list[Any] = [
        _header(document, width),
        Spacer(1, 8 * mm),
        *_bill_to(document),
        Spacer(1, 8 * mm),
        _lines(document, width),
        Spacer(1, 4 * mm),
        _totals(document, width),
    ]
    if document.taxes:
        story += [Spacer(1, 6 * mm), _taxes(document, width)]
    note = _style("note", 8.5)
    story += [Spacer(1, 6 * mm)] + [_p(text, note) for text in document.notes]

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(_GREY)
        numbered = document.number if document.number.startswith("INV-") else ""
        footer = f"{document.issuer.name} · {document.title} {numbered} · page {doc.page}".replace("  ", " ")
        canvas.drawCentredString(frame.pagesize[0] / 2, 10 * mm, footer)
        if document.watermark:
            canvas.setFont(BOLD, 96)
            canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.12))
            canvas.translate(frame.pagesize[0] / 2, frame.pagesize[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, document.watermark)
        canvas.restoreState()

    frame.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _header(document: Letterhead, width: float) -> Table:
    issuer = document.issuer
    lines = [_p(issuer.name, _style("issuer", 11, bold=True))]
    small = _style("issuer-line", 8.5)
    lines += [_p(line, small) for line in issuer.address_lines]
    if issuer.tax_id:
        lines.append(_p(f"Tax ID {issuer.tax_id}", small))
    if issuer.email:
        lines.append(_p(issuer.email, small))
    label, value = _style("fact-label", 8.5, textColor=_GREY), _style("fact", 8.5, bold=True)
    facts = Table(
        [[_p(k, label), _p(v, value)] for k, v in document.facts],
        colWidths=[30 * mm, 52 * mm],
        style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0.6)],
    )
    title = [
        _p(document.title.upper(), _style("title", 18, bold=True)),
        _p(document.state, _style("state", 8.5, bold=True, textColor=_GREY)),
        Spacer(1, 3 * mm),
        facts,
    ]
    table = Table([[lines, title]], colWidths=[width - 84 * mm, 84 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _bill_to(document: Letterhead, label: str = "BILL TO") -> list[Paragraph]:
    rows = [_p(label, _style("bill-label", 8, bold=True, textColor=_GREY))]
    for index, line in enumerate(document.bill_to):
        rows.append(_p(line, _style(f"bill-{index}", 10 if index == 0 else 9, bold=index == 0)))
    return rows


def _lines(document: InvoiceDocument, width: float) -> Table:
    head = _style("head", 7.5, bold=True)
    head_right = _style("head-r", 7.5, bold=True, alignment=TA_RIGHT)
    cell, right = _style("cell", 8.5), _style("cell-r", 8.5, alignment=TA_RIGHT)
    period = _style("period", 7.5, textColor=_GREY)
    figures = [19, 23, 20, 25, 18, 21]
    widths = [width - sum(figures) * mm] + [w * mm for w in figures]
    names = ["Qty", "Unit price", "Discount", "Amount", "Tax rate", "Tax"]
    rows: list[list[Any]] = [[_p("DESCRIPTION", head)] + [_p(n.upper(), head_right) for n in names]]
    for line in document.lines:
        rows.append(
            [
                [_p(line.description, cell), _p(line.period, period)],
                _p(line.quantity, right),
                _p(line.unit_price, right),
                _p(line.discount, right),
                _p(line.amount, right),
                _p(line.tax_rate, right),
                _p(line.tax_amount, right),
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, _RULE),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _totals(document: InvoiceDocument, width: float) -> Table:
    label, value = _style("total-label", 9), _style("total", 9, alignment=TA_RIGHT)
    due_label, due = _style("due-label", 11, bold=True), _style("due", 11, bold=True, alignment=TA_RIGHT)
    rows = [[_p(k, label), _p(v, value)] for k, v in document.totals]
    rows.append([_p(document.amount_due_label, due_label), _p(document.amount_due, due)])
    table = Table(rows, colWidths=[50 * mm, 40 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
                ("TOPPADDING", (0, -1), (-1, -1), 5),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _taxes(document: InvoiceDocument, width: float) -> Table:
    head = _style("tax-head", 7.5, bold=True, textColor=_GREY)
    head_right = _style("tax-head-r", 7.5, bold=True, textColor=_GREY, alignment=TA_RIGHT)
    cell, right = _style("tax-cell", 8), _style("tax-cell-r", 8, alignment=TA_RIGHT)
    rows: list[list[Any]] = [
        [_p("TAX SUMMARY", head), _p("TAXABLE AMOUNT", head_right), _p("TAX", head_right)]
    ]
    rows += [[_p(t.label, cell), _p(t.taxable, right), _p(t.tax, right)] for t in document.taxes]
    table = Table(rows, colWidths=[60 * mm, 35 * mm, 30 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.6, _GREY), ("LEFTPADDING", (0, 0), (0, -1), 0)])
    )
    return table
