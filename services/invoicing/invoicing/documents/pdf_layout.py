"""What every PDF document shares (ReportLab: pure Python, no system libraries): fonts, paragraph
styles, the page, the letterhead, the bill-to block, the footer and the ruled tables.

The text is set in Bitstream Vera, which ReportLab ships, embedded in the file (a standard PDF font
would lose characters outside Latin-1 and look different on every reader). Vera has no CJK glyphs:
a run of text it cannot draw — a Japanese, Chinese or Korean name or address — is set in one of the
CID fonts every PDF reader provides for those scripts (ReportLab's `UnicodeCIDFont`, not embedded:
the reader's Asian fonts draw it; the text stays Unicode, so it is searched and copied as written).
Which one is chosen by the text: kana → Japanese (HeiseiKakuGo-W5), Hangul → Korean
(HYGothic-Medium), other Han → Chinese (STSong-Light).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_FONTS = Path(reportlab.__file__).parent / "fonts"
REGULAR, BOLD = "InvoiceSans", "InvoiceSans-Bold"
JAPANESE, CHINESE, KOREAN = "HeiseiKakuGo-W5", "STSong-Light", "HYGothic-Medium"
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#dddddd")
_LETTER_COUNTRIES = ("_US", "_CA", "_PH", "_MX")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")


class Letterhead(Protocol):
    """A document laid out on the shared page: an issuer, a title and number, facts, a bill-to."""

    @property
    def issuer(self) -> Any: ...
    @property
    def title(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def facts(self) -> Sequence[tuple[str, str]]: ...
    @property
    def bill_to(self) -> Sequence[str]: ...


def register_fonts() -> None:
    """Register the embedded fonts (once per process); the CID fonts are registered when used."""
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(_FONTS / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(_FONTS / "VeraBd.ttf")))


def can_draw(text: str) -> bool:
    """True when the embedded font has a glyph for every character of `text`."""
    register_fonts()
    glyphs = pdfmetrics.getFont(REGULAR).face.charToGlyph
    return all(ord(ch) in glyphs or ch.isspace() for ch in text)


def fallback_font(text: str) -> str:
    """The CID font for text the embedded font cannot draw (see the module), registered."""
    name = JAPANESE if _KANA.search(text) else KOREAN if _HANGUL.search(text) else CHINESE
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def _runs(text: str) -> Iterator[tuple[str, bool]]:
    """`text` cut into runs the embedded font draws (True) or not; spaces join the run they are in."""
    register_fonts()
    glyphs = pdfmetrics.getFont(REGULAR).face.charToGlyph
    run, drawable = "", True
    for ch in text:
        mine = drawable if ch.isspace() else ord(ch) in glyphs
        if run and mine != drawable:
            yield run, drawable
            run = ""
        run, drawable = run + ch, mine
    if run:
        yield run, drawable


def style(name: str, size: float = 9, *, bold: bool = False, **kw: Any) -> ParagraphStyle:
    """A paragraph style in the documents' font, `size` points with 1.3 leading."""
    return ParagraphStyle(name, fontName=BOLD if bold else REGULAR, fontSize=size, leading=size * 1.3, **kw)


def paragraph(text: str, paragraph_style: ParagraphStyle) -> Paragraph:
    """Plain text (escaped, newlines kept) as a paragraph; runs the embedded font cannot draw are set
    in the CID font for their script."""
    parts = []
    for run, drawable in _runs(text):
        markup = escape(run).replace("\n", "<br/>")
        parts.append(markup if drawable else f'<font name="{fallback_font(text)}">{markup}</font>')
    return Paragraph("".join(parts), paragraph_style)


def page_frame(document: Letterhead, buffer: io.BytesIO) -> SimpleDocTemplate:
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


def draw_footer(canvas: Any, frame: SimpleDocTemplate, text: str) -> None:
    """The footer line centred at the bottom of the page, in grey (the CID font where needed)."""
    canvas.setFont(REGULAR if can_draw(text) else fallback_font(text), 7.5)
    canvas.setFillColor(GREY)
    canvas.drawCentredString(frame.pagesize[0] / 2, 10 * mm, text)


def letterhead(document: Letterhead, width: float) -> Table:
    """The issuer on the left; the title, state and facts (number, dates) on the right."""
    issuer = document.issuer
    lines = [paragraph(issuer.name, style("issuer", 11, bold=True))]
    small = style("issuer-line", 8.5)
    lines += [paragraph(line, small) for line in issuer.address_lines]
    if issuer.tax_id:
        lines.append(paragraph(f"Tax ID {issuer.tax_id}", small))
    if issuer.email:
        lines.append(paragraph(issuer.email, small))
    label, value = style("fact-label", 8.5, textColor=GREY), style("fact", 8.5, bold=True)
    facts = Table(
        [[paragraph(k, label), paragraph(v, value)] for k, v in document.facts],
        colWidths=[30 * mm, 52 * mm],
        style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0.6)],
    )
    title = [
        paragraph(document.title.upper(), style("title", 18, bold=True)),
        paragraph(document.state, style("state", 8.5, bold=True, textColor=GREY)),
        Spacer(1, 3 * mm),
        facts,
    ]
    table = Table([[lines, title]], colWidths=[width - 84 * mm, 84 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def bill_to_block(document: Letterhead, label: str = "BILL TO") -> list[Paragraph]:
    """Whom the document is for: a grey label, then the name in bold and the other lines."""
    rows = [paragraph(label, style("bill-label", 8, bold=True, textColor=GREY))]
    for index, line in enumerate(document.bill_to):
        rows.append(paragraph(line, style(f"bill-{index}", 10 if index == 0 else 9, bold=index == 0)))
    return rows


def ruled_rows_style(*extra: tuple[Any, ...], last_ruled_row: int = -1) -> TableStyle:
    """A table of lines under a heading row: a black rule under the heading, a light one under each
    line (to `last_ruled_row`), the outer edges flush with the text."""
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
            ("LINEBELOW", (0, 1), (-1, last_ruled_row), 0.4, RULE),
            ("LEFTPADDING", (0, 0), (0, -1), 0),
            ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            *extra,
        ]
    )


def total_rule_style() -> TableStyle:
    """A summary's rows, its last (what is due) under a black rule, flush right."""
    return TableStyle(
        [
            ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
            ("TOPPADDING", (0, -1), (-1, -1), 5),
            ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
        ]
    )
