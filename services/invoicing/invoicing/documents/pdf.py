"""An invoice (or a credit note) as a PDF a finance team sends: the shared letterhead, fonts and page
(`invoicing.documents.pdf_layout`), then its lines, totals and tax summary. Each page carries the
invoice number and its page number; a draft or a void invoice is marked across every page.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from invoicing.documents.pdf_layout import (
    BOLD,
    GREY,
    bill_to_block,
    draw_footer,
    letterhead,
    page_frame,
    paragraph,
    register_fonts,
    ruled_rows_style,
    style,
    total_rule_style,
)
from invoicing.documents.view import InvoiceDocument


def render_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    frame = page_frame(document, buffer)
    width = frame.width - 12  # the frame's own padding: 6 pt each side
    story: list[Any] = [
        letterhead(document, width),
        Spacer(1, 8 * mm),
        *bill_to_block(document),
        Spacer(1, 8 * mm),
        _lines(document, width),
        Spacer(1, 4 * mm),
        _totals(document, width),
    ]
    if document.taxes:
        story += [Spacer(1, 6 * mm), _taxes(document, width)]
    note = style("note", 8.5)
    story += [Spacer(1, 6 * mm)] + [paragraph(text, note) for text in document.notes]

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        numbered = document.number if document.number.startswith("INV-") else ""
        footer = f"{document.issuer.name} · {document.title} {numbered} · page {doc.page}".replace("  ", " ")
        draw_footer(canvas, frame, footer)
        if document.watermark:
            canvas.setFont(BOLD, 96)
            canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.12))
            canvas.translate(frame.pagesize[0] / 2, frame.pagesize[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, document.watermark)
        canvas.restoreState()

    frame.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _lines(document: InvoiceDocument, width: float) -> Table:
    head = style("head", 7.5, bold=True)
    head_right = style("head-r", 7.5, bold=True, alignment=TA_RIGHT)
    cell, right = style("cell", 8.5), style("cell-r", 8.5, alignment=TA_RIGHT)
    period = style("period", 7.5, textColor=GREY)
    figures = [19, 23, 20, 25, 18, 21]
    widths = [width - sum(figures) * mm] + [w * mm for w in figures]
    names = ["Qty", "Unit price", "Discount", "Amount", "Tax rate", "Tax"]
    rows: list[list[Any]] = [
        [paragraph("DESCRIPTION", head)] + [paragraph(n.upper(), head_right) for n in names]
    ]
    for line in document.lines:
        rows.append(
            [
                [paragraph(line.description, cell), paragraph(line.period, period)],
                paragraph(line.quantity, right),
                paragraph(line.unit_price, right),
                paragraph(line.discount, right),
                paragraph(line.amount, right),
                paragraph(line.tax_rate, right),
                paragraph(line.tax_amount, right),
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(ruled_rows_style())
    return table


def _totals(document: InvoiceDocument, width: float) -> Table:
    label, value = style("total-label", 9), style("total", 9, alignment=TA_RIGHT)
    due_label, due = style("due-label", 11, bold=True), style("due", 11, bold=True, alignment=TA_RIGHT)
    rows = [[paragraph(k, label), paragraph(v, value)] for k, v in document.totals]
    rows.append([paragraph(document.amount_due_label, due_label), paragraph(document.amount_due, due)])
    table = Table(rows, colWidths=[50 * mm, 40 * mm], hAlign="RIGHT")
    table.setStyle(total_rule_style())
    return table


def _taxes(document: InvoiceDocument, width: float) -> Table:
    head = style("tax-head", 7.5, bold=True, textColor=GREY)
    head_right = style("tax-head-r", 7.5, bold=True, textColor=GREY, alignment=TA_RIGHT)
    cell, right = style("tax-cell", 8), style("tax-cell-r", 8, alignment=TA_RIGHT)
    rows: list[list[Any]] = [
        [
            paragraph("TAX SUMMARY", head),
            paragraph("TAXABLE AMOUNT", head_right),
            paragraph("TAX", head_right),
        ]
    ]
    rows += [
        [paragraph(t.label, cell), paragraph(t.taxable, right), paragraph(t.tax, right)]
        for t in document.taxes
    ]
    table = Table(rows, colWidths=[60 * mm, 35 * mm, 30 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.6, GREY), ("LEFTPADDING", (0, 0), (0, -1), 0)])
    )
    return table
