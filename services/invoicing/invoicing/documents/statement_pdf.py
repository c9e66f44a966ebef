"""A statement of account as a PDF: the letterhead, fonts and page every document shares
(`invoicing.documents.pdf_layout`), then the summary (previous balance … balance due) and the
activity with its running balance."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from invoicing.documents.pdf_layout import (
    BOLD,
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
from invoicing.documents.statement_view import StatementDocument


def render_statement_pdf(document: StatementDocument) -> bytes:
    """The statement as PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    frame = page_frame(document, buffer)
    width = frame.width - 12  # the frame's own padding: 6 pt each side
    story: list[Any] = [
        letterhead(document, width),
        Spacer(1, 8 * mm),
        _parties(document, width),
        Spacer(1, 8 * mm),
        _activity(document, width),
        Spacer(1, 6 * mm),
    ]
    note = style("note", 8.5)
    story += [paragraph(text, note) for text in document.notes]

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        draw_footer(
            canvas, frame, f"{document.issuer.name} · {document.title} {document.number} · page {doc.page}"
        )
        canvas.restoreState()

    frame.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _parties(document: StatementDocument, width: float) -> Table:
    """Whom it is for on the left, the summary that adds up to the balance on the right."""
    label, value = style("sum-label", 9), style("sum", 9, alignment=TA_RIGHT)
    due_label, due = style("bal-label", 11, bold=True), style("bal", 11, bold=True, alignment=TA_RIGHT)
    rows = [[paragraph(k, label), paragraph(v, value)] for k, v in document.summary]
    rows.append([paragraph(document.balance_label, due_label), paragraph(document.balance, due)])
    summary = Table(rows, colWidths=[52 * mm, 38 * mm])
    summary.setStyle(total_rule_style())
    table = Table([[bill_to_block(document, "STATEMENT FOR"), summary]], colWidths=[width - 92 * mm, 92 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _activity(document: StatementDocument, width: float) -> Table:
    head = style("head", 7.5, bold=True)
    head_right = style("head-r", 7.5, bold=True, alignment=TA_RIGHT)
    cell, right = style("cell", 8.5), style("cell-r", 8.5, alignment=TA_RIGHT)
    figures = [25, 34, 24, 23, 25]
    widths = [figures[0] * mm, figures[1] * mm, width - sum(figures) * mm] + [w * mm for w in figures[2:]]
    names = ["DATE", "REFERENCE", "DESCRIPTION"]
    rows: list[list[Any]] = [
        [paragraph(n, head) for n in names]
        + [paragraph(n, head_right) for n in ("CHARGES", "CREDITS", "BALANCE")]
    ]
    for line in document.lines:
        rows.append(
            [
                paragraph(line.date, cell),
                paragraph(line.reference, cell),
                paragraph(line.description, cell),
                paragraph(line.charge, right),
                paragraph(line.credit, right),
                paragraph(line.balance, right),
            ]
        )
    bold, bold_right = style("end", 9.5, bold=True), style("end-r", 9.5, bold=True, alignment=TA_RIGHT)
    rows.append(
        [paragraph(document.balance_label, bold), "", "", "", "", paragraph(document.balance, bold_right)]
    )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        ruled_rows_style(
            ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
            ("SPAN", (0, -1), (-2, -1)),
            ("FONTNAME", (0, -1), (-1, -1), BOLD),
            last_ruled_row=-2,
        )
    )
    return table
