"""The report as a PDF (reportlab), in Chinese with the built-in CID font ``STSong-Light``:
Adobe's Asian font packs serve it to the reader, so no font file is shipped or embedded."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, spaceAfter=4)
HEADING = ParagraphStyle("heading", fontName=FONT, fontSize=12, leading=18, spaceBefore=10,
                         spaceAfter=4)  # fmt: skip
BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=14)
GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
)


def _table(rows: list[list], widths=None) -> Table:
    table = Table([[str(cell) for cell in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(GRID)
    return table


def _month(period) -> str:
    return _("%(year)s-%(month)02d") % {"year": period.year, "month": period.month}


def report_pdf(content: dict) -> bytes:
    """The PDF of :func:`fincrm.reports.selectors.report_content`'s ``content``."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{content['title']} {_month(content['period'])}",
        author=_("Your account manager"),
    )
    story = [
        *_header(content),
        *_ratios_section(content["ratios"]),
        *_facilities_section(content["facilities"]),
        *_repayment_section(content["facilities"]),
        *_loyalty_section(content["loyalty"]),
        *_recommendations_section(content["recommendations"]),
        *_manager_section(content["manager"]),
    ]
    document.build(story)
    return buffer.getvalue()


def _header(content: dict) -> list[Flowable]:
    """The title line (client and report) and the month, date, tier and industry."""
    return [
        Paragraph(f"{content['customer']} · {content['title']}", TITLE),
        Paragraph(
            _("Month %(month)s · figures as of %(date)s · tier %(tier)s · industry %(industry)s")
            % {
                "month": _month(content["period"]),
                "date": content["as_of"].isoformat(),
                "tier": content["tier"],
                "industry": content["industry"],
            },
            BODY,
        ),
    ]


def _ratios_section(ratios: dict) -> list[Flowable]:
    """The client's ratios by period against the industry median."""
    story: list[Flowable] = [Paragraph(_("Financial ratios against the industry median"), HEADING)]
    if ratios["periods"]:
        rows = [[_("Ratio"), *ratios["periods"], _("Industry median")]]
        rows += [[r["label"], *r["values"], r["median"]] for r in ratios["rows"]]
        story.append(_table(rows))
        story.append(
            Paragraph(
                _("The median is over the latest statement of each client in the industry."),
                BODY,
            )
        )
    else:
        story.append(Paragraph(_("No financial statements on file."), BODY))
    return story


def _facilities_section(facilities: dict) -> list[Flowable]:
    """The totals of limit, drawn and utilisation, then one row per facility."""
    story: list[Flowable] = [Paragraph(_("Facility utilisation"), HEADING)]
    story.append(
        _table(
            [
                [_("Total limit"), _("Drawn"), _("Utilisation")],
                [facilities["limit"], facilities["drawn"], facilities["utilisation"]],
            ]
        )
    )
    if facilities["rows"]:
        rows = [[_("Contract no."), _("Product"), _("Limit"), _("Drawn"), _("Utilisation"),
                 _("Days past due"), _("Classification")]]  # fmt: skip
        rows += [[f["contract"], f["product"], f["limit"], f["drawn"], f["utilisation"],
                  f["days_past_due"], f["loan_class"]] for f in facilities["rows"]]  # fmt: skip
        story += [Spacer(1, 3 * mm), _table(rows)]
    return story


def _repayment_section(facilities: dict) -> list[Flowable]:
    """Per facility: instalments due, paid on time, late, overdue and the amounts."""
    story: list[Flowable] = [Paragraph(_("Repayment record"), HEADING)]
    if facilities["rows"]:
        rows = [[_("Contract no."), _("Instalments due"), _("Paid on time"), _("Paid late"),
                 _("Overdue"), _("Paid (CNY)"), _("Overdue amount (CNY)")]]  # fmt: skip
        for f in facilities["rows"]:
            r = f["repayment"]
            rows.append([f["contract"], r["due"], r["on_time"], r["late"], r["overdue"],
                         r["paid"], r["overdue_amount"]])  # fmt: skip
        story.append(_table(rows))
    else:
        story.append(Paragraph(_("No facilities."), BODY))
    return story


def _loyalty_section(loyalty: dict) -> list[Flowable]:
    """Membership level, available points and the points expiring within 90 days."""
    return [
        Paragraph(_("Points and membership"), HEADING),
        _table(
            [
                [_("Membership level"), _("Available points"), _("Expiring within 90 days")],
                [loyalty["level"], loyalty["available"], loyalty["expiring_90d"]],
            ]
        ),
    ]


def _recommendations_section(recommendations: list[dict]) -> list[Flowable]:
    """The recommended products with why."""
    story: list[Flowable] = [Paragraph(_("Recommended products"), HEADING)]
    if recommendations:
        rows = [[_("Product"), _("Why")]]
        rows += [[r["product"], Paragraph(r["reason"], BODY)] for r in recommendations]
        table = Table(rows, colWidths=[50 * mm, None])
        table.setStyle(GRID)
        story.append(table)
    else:
        story.append(Paragraph(_("No recommendation."), BODY))
    return story


def _manager_section(manager: dict) -> list[Flowable]:
    """The account manager's name, phone, e-mail and team."""
    return [
        Paragraph(_("Your account manager"), HEADING),
        _table(
            [
                [_("Name"), _("Phone"), _("E-mail"), _("Team")],
                [manager["name"], manager["phone"], manager["email"], manager["team"]],
            ]
        ),
    ]
