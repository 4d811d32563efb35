"""The portal assistant: answers a client's common questions from the client's own data and the
FAQ base, and hands the rest to a person as a request ticket (issue 24, point 9).

Understanding the question is pure (``fincrm.analytics.assistant``); this module reads only
the logged-in client's rows — every query starts from ``customer`` — and words the answer in
the client's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fincrm.analytics import assistant
from fincrm.core.templatetags.fincrm_tags import money
from fincrm.financing.choices import CLOSED_STAGES, DocumentStatus, FacilityStatus
from fincrm.financing.models import Application, ApplicationDocument, Installment
from fincrm.loyalty.selectors import loyalty_summary
from fincrm.service.choices import TicketKind, TicketSource
from fincrm.service.services import ticket_open

from .models import FaqEntry


@dataclass
class Answer:
    question: str
    text: str
    kind: str  # "intent", "faq" or "none"
    intent: str | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def handover(self) -> bool:
        return self.kind == "none"


def faq_entries() -> list[FaqEntry]:
    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return list(FaqEntry.objects.filter(published=True, language=language))


def answer(*, customer, question: str, today: date) -> Answer:
    """The answer to ``question`` for ``customer`` as of ``today``."""
    question = question.strip()
    entries = faq_entries()
    understood = assistant.understand(
        question, [assistant.FaqEntry(e.question, e.keywords) for e in entries]
    )
    if understood.kind == "intent":
        text, lines = INTENT_ANSWERS[understood.intent](customer, today)
        return Answer(question, text, "intent", understood.intent, lines)
    if understood.kind == "faq":
        entry = entries[understood.faq_index]
        return Answer(question, entry.answer, "faq", lines=[entry.question])
    return Answer(
        question,
        _(
            "Sorry, I cannot answer that yet. Pass it to a person and your account manager "
            "will reply."
        ),
        "none",
    )


def handover(*, customer, question: str, user) -> object:
    """The question the assistant could not answer becomes a request ticket."""
    return ticket_open(
        customer=customer,
        subject=_("Question from the portal assistant"),
        description=question,
        channel="portal",
        kind=TicketKind.REQUEST,
        source=TicketSource.PORTAL,
        created_by=user,
    )


def _day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def _cents(value: Decimal) -> str:
    """An amount to the cent, as a repayment is paid: 12,345.67 元 / CNY 12,345.67."""
    if (get_language() or "").startswith("zh"):
        return f"{value:,.2f} 元"
    return f"CNY {value:,.2f}"


def _unpaid(customer):
    return (
        Installment.objects.filter(
            facility__customer=customer,
            facility__status=FacilityStatus.ACTIVE,
            paid_off_on__isnull=True,
        )
        .select_related("facility")
        .order_by("due_date", "facility_id", "number")
    )


def _next_instalment(customer, today: date) -> tuple[str, list[str]]:
    unpaid = list(_unpaid(customer))
    upcoming = [i for i in unpaid if i.due_date >= today]
    if not upcoming:
        return _("You have no instalment to pay."), []
    first = upcoming[0]
    same_day = [i for i in upcoming if i.due_date == first.due_date]
    total = sum((i.outstanding for i in same_day), Decimal(0))
    text = _("Your next repayment is due on %(day)s: %(amount)s.") % {
        "day": _day(first.due_date),
        "amount": _cents(total),
    }
    lines = [
        _(
            "Contract %(contract)s, instalment %(number)s: principal %(principal)s, "
            "interest %(interest)s."
        )
        % {
            "contract": i.facility.contract_number,
            "number": i.number,
            "principal": _cents(i.principal_due - i.principal_paid),
            "interest": _cents(i.interest_due - i.interest_paid),
        }
        for i in same_day
    ]
    overdue = [i for i in unpaid if i.due_date < today]
    if overdue:
        lines.append(
            _("Also overdue: %(amount)s.")
            % {"amount": _cents(sum((i.outstanding for i in overdue), Decimal(0)))}
        )
    return text, lines


def _overdue(customer, today: date) -> tuple[str, list[str]]:
    overdue = [i for i in _unpaid(customer) if i.due_date < today]
    if not overdue:
        return _("Nothing is overdue. Thank you for paying on time."), []
    total = sum((i.outstanding for i in overdue), Decimal(0))
    text = _("%(count)s instalments are overdue, %(amount)s in all.") % {
        "count": len(overdue),
        "amount": _cents(total),
    }
    lines = [
        _("Contract %(contract)s, instalment %(number)s, due %(day)s: %(amount)s.")
        % {
            "contract": i.facility.contract_number,
            "number": i.number,
            "day": _day(i.due_date),
            "amount": _cents(i.outstanding),
        }
        for i in overdue
    ]
    lines.append(_("Please pay as soon as you can, or talk to your account manager."))
    return text, lines


def _missing_documents(customer, today: date) -> tuple[str, list[str]]:
    documents = list(
        ApplicationDocument.objects.filter(
            application__customer=customer,
            status__in=(DocumentStatus.MISSING, DocumentStatus.REJECTED),
        )
        .exclude(application__stage__in=CLOSED_STAGES)
        .select_related("application")
        .order_by("application_id", "pk")
    )
    if not documents:
        return _("No document is missing."), []
    lines = []
    for document in documents:
        line = _("Application %(number)s: %(kind)s") % {
            "number": document.application.number,
            "kind": document.get_kind_display(),
        }
        if document.status == DocumentStatus.REJECTED and document.rejection_reason:
            line += _(" (returned: %(reason)s)") % {"reason": document.rejection_reason}
        lines.append(line)
    text = _("%(count)s documents are still needed; upload them on your home page.") % {
        "count": len(documents)
    }
    return text, lines


def _points(customer, today: date) -> tuple[str, list[str]]:
    summary = loyalty_summary(customer=customer)
    text = _("You have %(points)s points available; your level is %(level)s.") % {
        "points": summary["available"],
        "level": summary["level"],
    }
    lines = []
    if summary["expiring_90d"]:
        lines.append(
            _("%(points)s points expire within 90 days.") % {"points": summary["expiring_90d"]}
        )
    affordable = [r for r in summary["rewards"] if r["affordable"]]
    if affordable:
        lines.append(
            _("They buy: %(rewards)s.")
            % {"rewards": "、".join(f"{r['name']}（{r['points']}）" for r in affordable)}
        )
    else:
        lines.append(_("No reward is within reach yet."))
    return text, lines


def _application(customer, today: date) -> tuple[str, list[str]]:
    applications = list(
        Application.objects.filter(customer=customer)
        .exclude(stage__in=CLOSED_STAGES)
        .select_related("product")
        .order_by("-created_at")
    )
    if not applications:
        return _("You have no application in progress."), []
    lines = [
        _("Application %(number)s (%(product)s, %(amount)s): %(stage)s.")
        % {
            "number": a.number,
            "product": a.product.name,
            "amount": money(a.amount),
            "stage": a.get_stage_display(),
        }
        for a in applications
    ]
    return _("%(count)s applications in progress.") % {"count": len(applications)}, lines


INTENT_ANSWERS = {
    assistant.NEXT_INSTALMENT: _next_instalment,
    assistant.OVERDUE: _overdue,
    assistant.MISSING_DOCUMENTS: _missing_documents,
    assistant.POINTS: _points,
    assistant.APPLICATION: _application,
}
