"""Collection letters: a rung of the dunning ladder that is a letter (催收函, 担保人通知函,
律师函) is produced from its template with the client's figures of the day, as a PDF
(reportlab, its built-in CID font STSong-Light: Chinese with no font file) or a Word file
(python-docx), and every one produced is recorded (``CollectionLetter``) and logged.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Min, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from .choices import LETTER_FORMATS, LETTER_STEPS
from .letter_texts import DEFAULT_LETTERS
from .models import CollectionAction, CollectionLetter, CollectionLetterTemplate, Installment

MSG_NOT_A_LETTER = _("This step of the ladder is not worked with a letter.")
MSG_NOTHING_OVERDUE = _("Nothing is overdue on this facility: there is no letter to send.")
MSG_FORMAT = _("A letter is produced as PDF or Word.")

#: What a template may say in braces, and what it is.
PLACEHOLDERS = {
    "client": _("the client's name"),
    "guarantor": _("the guarantor (the application's; else “guarantor”)"),
    "contract": _("contract number"),
    "product": _("product"),
    "principal": _("overdue principal (CNY)"),
    "interest": _("overdue interest (CNY)"),
    "penalty": _("penalty interest due (CNY)"),
    "fees": _("overdue fees (CNY)"),
    "total": _("total overdue (CNY)"),
    "days": _("days past due"),
    "due_date": _("due date of the oldest unpaid instalment"),
    "pay_by": _("pay-by date"),
    "date": _("the letter's date"),
    "lender": _("lender"),
    "reference": _("letter number"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: The letter number's middle part per step: 催收 (CS), 担保 (DB), 法务 (FW).
STEP_CODES = {"letter": "CS", "guarantor": "DB", "legal": "FW"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
CID_FONT = "STSong-Light"


def unknown_placeholders(text: str) -> list[str]:
    """The names in braces that are not placeholders (a typo would print as it is)."""
    return sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its known placeholders replaced; nothing else of it is interpreted."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def money(amount: Decimal) -> str:
    """``21500`` → ``21,500.00`` (CNY, to the cent)."""
    return f"{amount:,.2f}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def overdue_amounts(facility, *, as_of: date) -> dict:
    """What is overdue on ``facility`` at ``as_of``: principal, interest, penalty interest and
    fees of the instalments due before that day and not paid off, their total (Decimal, CNY),
    the oldest one's due date and the days past due since it."""
    late = Installment.objects.filter(facility=facility, paid_off_on__isnull=True,
                                      due_date__lt=as_of)  # fmt: skip
    sums = late.aggregate(
        principal=Sum(F("principal_due") - F("principal_paid")),
        interest=Sum(F("interest_due") - F("interest_paid")),
        penalty=Sum(F("penalty_due") - F("penalty_paid")),
        fees=Sum(F("fee_due") - F("fee_paid")),
        since=Min("due_date"),
    )
    amounts = {k: Decimal(sums[k] or 0).quantize(Decimal("0.01"))
               for k in ("principal", "interest", "penalty", "fees")}  # fmt: skip
    since = sums["since"]
    return {
        **amounts,
        "total": sum(amounts.values(), Decimal(0)),
        "since": since,
        "days": (as_of - since).days if since else 0,
    }


def letter_figures(
    action: CollectionAction, *, as_of: date, lending, owed: dict | None = None
) -> dict[str, str]:
    """The values of every placeholder for ``action``'s letter produced on ``as_of``
    (``owed``: its ``overdue_amounts`` when the caller has them)."""
    facility = action.facility
    owed = owed or overdue_amounts(facility, as_of=as_of)
    application = facility.application
    guarantor = (application.guarantor if application else "") or _g("Guarantor")
    return {
        "client": facility.customer.name,
        "guarantor": guarantor,
        "contract": facility.contract_number,
        "product": facility.product.name,
        **{k: money(owed[k]) for k in ("principal", "interest", "penalty", "fees", "total")},
        "days": str(owed["days"]),
        "due_date": chinese_date(owed["since"]) if owed["since"] else "",
        "pay_by": chinese_date(as_of + timedelta(days=lending.letter_pay_within_days)),
        "date": chinese_date(as_of),
        "lender": lending.lender_name,
        "reference": f"{facility.contract_number}-{STEP_CODES[action.step]}-{as_of:%Y%m%d}",
    }


def letter_template(step: str, language: str = "zh-hans") -> CollectionLetterTemplate:
    """The active template of a step, or (none saved) the built-in text, unsaved."""
    found = CollectionLetterTemplate.objects.filter(step=step, language=language,
                                                    is_active=True).first()  # fmt: skip
    if found is not None:
        return found
    default = DEFAULT_LETTERS[step]
    return CollectionLetterTemplate(step=step, language=language, title=default["title"],
                                    body=default["body"])  # fmt: skip


@dataclass(frozen=True)
class Letter:
    """A letter ready to render: its title, paragraphs, the figures table and who signs."""

    title: str
    paragraphs: list[str]
    figures: list[tuple[str, str]]
    reference: str
    lender: str
    date: str


def _compose(template: CollectionLetterTemplate, values: dict[str, str]) -> Letter:
    paragraphs = [fill(p.strip(), values) for p in re.split(r"\n\s*\n", template.body)]
    with translation.override(template.language):
        table = [
            (_g("Contract number"), values["contract"]),
            (_g("Overdue principal (CNY)"), values["principal"]),
            (_g("Overdue interest (CNY)"), values["interest"]),
            (_g("Penalty interest (CNY)"), values["penalty"]),
            (_g("Overdue fees (CNY)"), values["fees"]),
            (_g("Total overdue (CNY)"), values["total"]),
            (_g("Days past due"), values["days"]),
            (_g("Overdue since"), values["due_date"]),
            (_g("Pay by"), values["pay_by"]),
        ]
        reference = _g("Letter no. %(reference)s") % {"reference": values["reference"]}
    return Letter(title=fill(template.title, values), paragraphs=[p for p in paragraphs if p],
                  figures=table, reference=reference, lender=values["lender"],
                  date=values["date"])  # fmt: skip


def render_pdf(letter: Letter) -> bytes:
    """An A4 PDF in STSong-Light (a CID font every PDF reader carries: no font file)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    base = {"fontName": CID_FONT, "wordWrap": "CJK"}
    title = ParagraphStyle("title", fontSize=18, leading=28, alignment=TA_CENTER, **base)
    right = ParagraphStyle("right", fontSize=10.5, leading=16, alignment=TA_RIGHT, **base)
    body = ParagraphStyle("body", fontSize=12, leading=21, spaceafter=6, **base)
    indented = ParagraphStyle("indented", parent=body, firstLineIndent=24)
    cell = ParagraphStyle("cell", fontSize=10.5, leading=15, **base)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm,
                            topMargin=25 * mm, bottomMargin=25 * mm, title=letter.title,
                            author=letter.lender, subject=letter.reference)  # fmt: skip
    story = [Paragraph(escape(letter.title), title), Spacer(1, 4 * mm),
             Paragraph(escape(letter.reference), right), Spacer(1, 4 * mm)]  # fmt: skip
    for text in letter.paragraphs:
        salutation = text.endswith("：") and "\n" not in text
        story.append(Paragraph(escape(text).replace("\n", "<br/>"),
                               body if salutation else indented))  # fmt: skip
    table = Table([[Paragraph(escape(k), cell), Paragraph(escape(v), cell)]
                   for k, v in letter.figures], colWidths=[55 * mm, 90 * mm])  # fmt: skip
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))  # fmt: skip
    story += [Spacer(1, 4 * mm), table, Spacer(1, 12 * mm)]
    story += [Paragraph(escape(line), right) for line in (letter.lender, letter.date)]
    doc.build(story)
    return buffer.getvalue()


def render_docx(letter: Letter) -> bytes:
    """A Word file in 宋体 (SimSun), the same text, table and signature as the PDF."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    properties = document.core_properties
    properties.title, properties.author, properties.subject = (
        letter.title, letter.lender, letter.reference,
    )  # fmt: skip

    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(letter.title)
    run.bold, run.font.size = True, Pt(18)
    document.add_paragraph(letter.reference).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for text in letter.paragraphs:
        paragraph = document.add_paragraph(text)
        if not (text.endswith("：") and "\n" not in text):
            paragraph.paragraph_format.first_line_indent = Pt(24)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in letter.figures:
        row = table.add_row().cells
        row[0].text, row[1].text = label, value
    document.add_paragraph()
    for line in (letter.lender, letter.date):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


RENDERERS = {"pdf": render_pdf, "docx": render_docx}


@transaction.atomic
def collection_letter_issue(
    *, action: CollectionAction, user, file_format: str, today: date | None = None
) -> tuple[CollectionLetter, bytes]:
    """Produce the letter of a collection action (its step's template, the client's figures
    on ``today``) as ``file_format`` (``pdf`` or ``docx``); record it on the action (who, when,
    which letter, the figures and text it carried) and in the access log. Returns the record
    and the file's bytes. Refused: a step that is not a letter, nothing overdue."""
    from fincrm.core.models import AccessAction, access_log

    from .services import policy_current

    if file_format not in dict(LETTER_FORMATS):
        raise ValidationError(MSG_FORMAT, code="format")
    if action.step not in LETTER_STEPS:
        raise ValidationError(MSG_NOT_A_LETTER, code="step")
    today = today or timezone.localdate()
    lending = policy_current()[0].lending
    owed = overdue_amounts(action.facility, as_of=today)
    if owed["total"] <= 0:
        raise ValidationError(MSG_NOTHING_OVERDUE, code="nothing_overdue")
    values = letter_figures(action, as_of=today, lending=lending, owed=owed)
    template = letter_template(action.step)
    letter = _compose(template, values)
    content = RENDERERS[file_format](letter)
    record = CollectionLetter(
        action=action,
        template=template if template.pk else None,
        reference=values["reference"],
        file_format=file_format,
        title=letter.title[:100],
        text="\n\n".join(letter.paragraphs),
        figures=values,
        created_by=user if getattr(user, "pk", None) else None,
    )
    record.full_clean(exclude=["action", "template", "created_by"])
    record.save()
    access_log(user=user, customer=action.facility.customer, action=AccessAction.DOCUMENT,
               fields=f"{letter.title} {values['reference']}")  # fmt: skip
    return record, content


def letter_filename(record: CollectionLetter) -> str:
    return f"{record.title}-{record.reference}.{record.file_format}"
