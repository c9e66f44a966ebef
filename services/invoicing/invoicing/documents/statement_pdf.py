"""A statement of account as a PDF: the invoice's letterhead, fonts and page (invoicing.documents.pdf),
then the summary (previous balance … balance due) and the activity with its running balance."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from invoicing.documents.pdf import (
    _GREY,
    _RULE,
    BOLD,
    REGULAR,
    _bill_to,
    _header,
    _p,
    _register_fonts,
    _style,
    page_frame,
)
from invoicing.documents.statement_view import StatementDocument


def render_statement_pdf(document: StatementDocument) -> bytes:
    """The statement as PDF bytes."""
    _register_fonts()
    buffer = io.BytesIO()
    frame = page_frame(document, buffer)
    width = frame.width - 12  # the frame's own padding: 6 pt each side
    story: list[Any] = [
        _header(document, width),
        Spacer(1, 8 * mm),
        _parties(document, width),
        Spacer(1, 8 * mm),
        _activity(document, width),
        Spacer(1, 6 * mm),
    ]
    note = _style("note", 8.5)
    story += [_p(text, note) for text in document.notes]

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(_GREY)
        footer = f"{document.issuer.name} · {document.title} {document.number} · page {doc.page}"
        canvas.drawCentredString(frame.pagesize[0] / 2, 10 * mm, footer)
        canvas.restoreState()

    frame.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _parties(document: StatementDocument, width: float) -> Table:
    """Whom it is for on the left, the summary that adds up to the balance on the right."""
    label, value = _style("sum-label", 9), _style("sum", 9, alignment=TA_RIGHT)
    due_label, due = _style("bal-label", 11, bold=True), _style("bal", 11, bold=True, alignment=TA_RIGHT)
    rows = [[_p(k, label), _p(v, value)] for k, v in document.summary]
    rows.append([_p(document.balance_label, due_label), _p(document.balance, due)])
    summary = Table(rows, colWidths=[52 * mm, 38 * mm])
    summary.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
                ("TOPPADDING", (0, -1), (-1, -1), 5),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ]
        )
    )
    table = Table([[_bill_to(document, "STATEMENT FOR"), summary]], colWidths=[width - 92 * mm, 92 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _activity(document: StatementDocument, width: float) -> Table:
    head = _style("head", 7.5, bold=True)
    head_right = _style("head-r", 7.5, bold=True, alignment=TA_RIGHT)
    cell, right = _style("cell", 8.5), _style("cell-r", 8.5, alignment=TA_RIGHT)
    figures = [25, 34, 24, 23, 25]
    widths = [figures[0] * mm, figures[1] * mm, width - sum(figures) * mm] + [w * mm for w in figures[2:]]
    names = ["DATE", "REFERENCE", "DESCRIPTION"]
    rows: list[list[Any]] = [
        [_p(n, head) for n in names] + [_p(n, head_right) for n in ("CHARGES", "CREDITS", "BALANCE")]
    ]
    for line in document.lines:
        rows.append(
            [
                _p(line.date, cell),
                _p(line.reference, cell),
                _p(line.description, cell),
                _p(line.charge, right),
                _p(line.credit, right),
                _p(line.balance, right),
            ]
        )
    bold, bold_right = _style("end", 9.5, bold=True), _style("end-r", 9.5, bold=True, alignment=TA_RIGHT)
    rows.append([_p(document.balance_label, bold), "", "", "", "", _p(document.balance, bold_right)])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
                ("LINEBELOW", (0, 1), (-1, -2), 0.4, _RULE),
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
                ("SPAN", (0, -1), (-2, -1)),
                ("FONTNAME", (0, -1), (-1, -1), BOLD),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table
