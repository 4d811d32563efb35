"""Approval within authority and within the grade's controls.

Two questions are asked of every approval, in this order:

1. **Authority** (403 through the API): may this user approve this application at all? The
   policy's authority table (``lending.approval_authority``) says which roles approve what —
   by amount, grade, product type and team — and how many must agree; whoever moved the
   application to credit review may not approve it (maker–checker).
2. **Controls** (422): do the terms respect the client's grade controls — maximum tenor,
   limit (a multiple of revenue, less what is already lent), minimum rate (the pricing rule's
   floor, ``financing.pricing``), required guarantee or collateral, cash margin? A breach is refused
   unless the approver's role may override and records a reason.

The checks are plain functions of the application's terms and the policy, so the table can
be tested cell by cell; ``application_decide`` is the one write.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role
from fincrm.analytics.policy import AuthorityRule, GradeControls, PolicyConfig

from .choices import FacilityStatus, GuaranteeType, Route, Stage, Vote
from .models import Application, ApprovalVote, Facility

MSG_NOT_AT_REVIEW = _("Only an application at credit review can be decided.")
MSG_MAKER = _("Maker–checker: you submitted this application for review, so you may not decide it.")
MSG_NO_AUTHORITY = _(
    "Outside your approval authority: %(role)s may approve %(rules)s; this application is "
    "%(amount)s CNY, grade %(grade)s, %(product)s."
)
MSG_NO_RULE_FOR_ROLE = _("none")
MSG_ALREADY_VOTED = _("You have already recorded your decision on this application.")
MSG_REASON_NEEDED = _("Give a reason for the rejection.")
MSG_BREACHES = _("The terms break the grade's controls: %(breaches)s")
MSG_OVERRIDE_NOT_ALLOWED = _("Your role may not approve an exception to the grade's controls.")

#: Guarantee types that count as collateral, and as any security at all.
COLLATERAL_TYPES = frozenset(
    {GuaranteeType.MORTGAGE, GuaranteeType.PLEDGE, GuaranteeType.RECEIVABLES}
)
SECURED_TYPES = COLLATERAL_TYPES | {GuaranteeType.GUARANTEE}
#: The guarantee type an application is proposed with for each control requirement.
PROPOSED_GUARANTEE = {
    "none": GuaranteeType.CREDIT,
    "guarantee": GuaranteeType.GUARANTEE,
    "collateral": GuaranteeType.MORTGAGE,
    "guarantee_and_collateral": GuaranteeType.MORTGAGE,
}


@dataclass(frozen=True)
class Breach:
    """A broken control: its code, and the message naming the rule and the figures."""

    code: str
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def grade_rank(policy: PolicyConfig, grade: str | None) -> int:
    """0 for the best grade; an unknown or missing grade ranks below the worst."""
    grades = [band.grade for band in policy.grades]
    return grades.index(grade) if grade in grades else len(grades)


def minimum_rate(policy: PolicyConfig, controls: GradeControls) -> Decimal:
    """The grade's price floor: the reference rate plus its spread, % a year."""
    return Decimal(str(policy.lending.base_rate_percent)) + Decimal(
        controls.pricing_spread_bp
    ) / Decimal(100)


def client_grade(customer) -> str | None:
    classification = getattr(customer, "classification", None)
    return classification.grade if classification is not None else None


def latest_revenue(customer) -> Decimal | None:
    statement = customer.financial_statements.order_by("-period_end").first()
    return statement.revenue if statement is not None else None


def current_exposure(customer, *, excluding=None) -> Decimal:
    """Limits of the client's live facilities (the renewed one left out)."""
    live = Facility.objects.filter(customer=customer, status=FacilityStatus.ACTIVE)
    if excluding is not None:
        live = live.exclude(pk=excluding.pk)
    return live.aggregate(total=Sum("approved_limit"))["total"] or Decimal(0)


def control_breaches(application: Application, policy: PolicyConfig) -> list[Breach]:
    """Every grade control the application's terms break (empty: all respected)."""
    grade = client_grade(application.customer)
    if grade not in policy.grade_controls:
        return [
            Breach(
                "no_grade",
                gettext("The client has no credit grade yet: evaluate it before approving."),
            )
        ]
    controls = policy.grade_controls[grade]
    breaches: list[Breach] = []
    if application.tenor_months > controls.max_tenor_months:
        breaches.append(
            Breach(
                "max_tenor",
                gettext(
                    "tenor %(tenor)s months is above grade %(grade)s's maximum of %(max)s months"
                )
                % {
                    "tenor": application.tenor_months,
                    "grade": grade,
                    "max": controls.max_tenor_months,
                },
            )
        )
    breaches += _rate_breaches(application, grade, controls, policy)
    breaches += _limit_breaches(application, grade, controls)
    breaches += _security_breaches(application, grade, controls)
    if Decimal(application.margin_percent) / 100 < Decimal(str(controls.margin_ratio)):
        breaches.append(
            Breach(
                "margin",
                gettext("cash margin %(margin)s%% is below grade %(grade)s's %(required)s%%")
                % {
                    "margin": application.margin_percent,
                    "grade": grade,
                    "required": round(controls.margin_ratio * 100, 1),
                },
            )
        )
    return breaches


def _rate_breaches(application, grade: str, controls: GradeControls, policy) -> list[Breach]:
    """The pricing rule's floor (``financing.pricing``): the rule's rate for these terms less
    the account manager's discretion."""
    from .pricing import application_quote, describe_floor

    rate = application.rate if application.rate is not None else application.product.min_rate
    quote = application_quote(application, policy)
    if quote is None:  # no amount to price: the grade's floor alone
        floor, why = (
            minimum_rate(policy, controls),
            gettext("reference rate plus %(spread)s bp") % {"spread": controls.pricing_spread_bp},
        )
    else:
        floor, why = quote.floor_percent, describe_floor(quote)
    if rate >= floor:
        return []
    return [
        Breach(
            "min_rate",
            gettext(
                "rate %(rate)s%% is below the pricing rule's floor of %(floor)s%% for grade "
                "%(grade)s (%(why)s)"
            )
            % {"rate": rate, "grade": grade, "floor": floor.normalize(), "why": why},
        )
    ]


def _limit_breaches(application, grade: str, controls: GradeControls) -> list[Breach]:
    customer = application.customer
    revenue = latest_revenue(customer)
    if revenue is None:
        if customer.kind == "company":
            return [
                Breach(
                    "limit",
                    gettext("no financial statement on record to size grade %(grade)s's limit")
                    % {"grade": grade},
                )
            ]
        return []  # a person's limit is not sized from revenue
    limit = (revenue * Decimal(str(controls.limit_revenue_multiple))).quantize(Decimal(1))
    exposure = current_exposure(customer, excluding=application.renewal_of)
    if exposure + application.amount > limit:
        return [
            Breach(
                "limit",
                gettext(
                    "%(amount)s CNY on top of %(exposure)s CNY already lent exceeds "
                    "grade %(grade)s's "
                    "limit of %(limit)s CNY (%(multiple)s × revenue)"
                )
                % {
                    "amount": f"{application.amount:,.0f}",
                    "exposure": f"{exposure:,.0f}",
                    "grade": grade,
                    "limit": f"{limit:,.0f}",
                    "multiple": controls.limit_revenue_multiple,
                },
            )
        ]
    return []


def _security_breaches(application, grade: str, controls: GradeControls) -> list[Breach]:
    needed = controls.guarantee
    kind = application.guarantee_type
    missing = (
        (needed == "guarantee" and kind not in SECURED_TYPES)
        or (needed == "collateral" and kind not in COLLATERAL_TYPES)
        or (
            needed == "guarantee_and_collateral"
            and (kind not in COLLATERAL_TYPES or not application.guarantor)
        )
    )
    if not missing:
        return []
    labels = {
        "guarantee": gettext("a guarantee or collateral"),
        "collateral": gettext("collateral"),
        "guarantee_and_collateral": gettext("collateral and a named guarantor"),
    }
    return [
        Breach(
            "guarantee",
            gettext("grade %(grade)s requires %(what)s") % {"grade": grade, "what": labels[needed]},
        )
    ]


# --- authority ---------------------------------------------------------------------------


def _rule_applies(rule: AuthorityRule, application: Application, user, policy) -> bool:
    if rule.max_amount_cny is not None and application.amount > Decimal(str(rule.max_amount_cny)):
        return False
    grade = client_grade(application.customer)
    if rule.worst_grade and grade_rank(policy, grade) > grade_rank(policy, rule.worst_grade):
        return False
    if rule.product_types and application.product.product_type not in rule.product_types:
        return False
    if rule.own_teams_only:
        customer = application.customer
        return customer.owner_id == user.pk or customer.team_id in user.visible_team_ids()
    return True


def describe_rule(rule: AuthorityRule) -> str:
    roles = " + ".join(str(Role(r).label) for r in rule.roles)
    parts = [roles]
    if rule.max_amount_cny is not None:
        parts.append(gettext("up to %(amount)s CNY") % {"amount": f"{rule.max_amount_cny:,.0f}"})
    if rule.worst_grade:
        parts.append(gettext("grade %(grade)s or better") % {"grade": rule.worst_grade})
    if rule.product_types:
        parts.append("/".join(rule.product_types))
    if rule.own_teams_only:
        parts.append(gettext("own teams' clients"))
    return ", ".join(parts)


def authority_for(application: Application, user, policy: PolicyConfig) -> AuthorityRule:
    """The rule under which ``user`` may decide ``application`` (the one needing the fewest
    approvers), or ``PermissionDenied`` naming the rules of the user's role."""
    if policy.lending.maker_checker and application.submitted_by_id == user.pk:
        raise PermissionDenied(str(MSG_MAKER))
    role = Role.ADMIN if user.is_superuser and not user.role else user.role
    mine = [rule for rule in policy.lending.approval_authority if role in rule.roles]
    usable = [rule for rule in mine if _rule_applies(rule, application, user, policy)]
    if usable:
        return min(usable, key=lambda rule: len(required_roles(application, rule, policy)))
    raise PermissionDenied(
        str(MSG_NO_AUTHORITY)
        % {
            "role": Role(role).label if role in Role.values else gettext("no role"),
            "rules": "; ".join(describe_rule(r) for r in mine) or str(MSG_NO_RULE_FOR_ROLE),
            "amount": f"{application.amount:,.0f}",
            "grade": client_grade(application.customer) or "—",
            "product": application.product.get_product_type_display(),
        }
    )


def required_roles(application: Application, rule: AuthorityRule, policy) -> list[str]:
    """The roles whose approval ``rule`` needs for ``application``: all of them, except on the
    green channel, where a rule of several approvers (four eyes, a committee) needs
    ``green_channel_fewer_approvers`` fewer — the first ones listed, at least one."""
    roles = list(rule.roles)
    if application.route == Route.GREEN and len(roles) > 1:
        keep = max(1, len(roles) - policy.lending.green_channel_fewer_approvers)
        roles = roles[:keep]
    return roles


def pending_roles(application: Application, rule: AuthorityRule, policy) -> list[str]:
    """Roles ``rule`` needs for ``application`` that have not approved it yet."""
    voted = set(application.votes.filter(vote=Vote.APPROVE).values_list("role", flat=True))
    return [r for r in required_roles(application, rule, policy) if r not in voted]


def breaches_allowed(breaches: list[Breach], *, override_reason: str, role: str, policy) -> None:
    """An approval over breached controls goes through only with a reason, from a role that
    may override (``ValidationError`` naming the breaches, else ``PermissionDenied``)."""
    if not breaches:
        return
    if not override_reason.strip():
        # No params: Django would format the message with them again, and a rate breach's
        # message holds a "%" (a 500 instead of the 422 naming the rule).
        raise ValidationError(
            MSG_BREACHES % {"breaches": "; ".join(b.message for b in breaches)},
            code="controls",
        )
    if role not in policy.lending.override_roles:
        raise PermissionDenied(str(MSG_OVERRIDE_NOT_ALLOWED))


@transaction.atomic
def application_decide(
    *,
    application: Application,
    user,
    vote: str,
    note: str = "",
    override_reason: str = "",
    policy: PolicyConfig,
    policy_version: int | None = None,
) -> ApprovalVote:
    """Record ``user``'s decision on an application at credit review.

    A rejection by anyone with authority rejects it. An approval is checked against the
    grade's controls (refused with ``ValidationError`` unless overridden with a reason by a
    role that may) and moves the application to approved once every role its authority rule
    names has approved; until then it waits at credit review for the others.
    """
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("customer", "product", "customer__classification")
        .get(pk=application.pk)
    )
    if application.stage != Stage.CREDIT_REVIEW:
        raise ValidationError(MSG_NOT_AT_REVIEW, code="not_at_review")
    rule = authority_for(application, user, policy)
    if application.votes.filter(user=user).exists():
        raise ValidationError(MSG_ALREADY_VOTED, code="already_voted")
    role = Role.ADMIN if user.is_superuser and not user.role else user.role
    breaches: list[Breach] = []
    if vote == Vote.REJECT:
        if not note.strip():
            raise ValidationError(MSG_REASON_NEEDED, code="reason_needed")
    else:
        breaches = control_breaches(application, policy)
        breaches_allowed(breaches, override_reason=override_reason, role=role, policy=policy)
    record = ApprovalVote(
        application=application,
        user=user,
        role=role,
        vote=vote,
        authority=describe_rule(rule),
        breaches=[b.as_dict() for b in breaches],
        override_reason=override_reason.strip() if breaches else "",
        note=note,
        policy_version=policy_version,
    )
    record.full_clean()
    record.save()
    if vote == Vote.REJECT:
        _close(application, Stage.REJECTED, user, note)
    elif not pending_roles(application, rule, policy):
        if breaches:
            application.override_reason = record.override_reason
            application.save(update_fields=["override_reason"])
        _close(application, Stage.APPROVED, user, note or record.authority)
    return record


def _close(application: Application, stage: str, user, note: str) -> None:
    from .services import application_move_stage

    application.decided_at = timezone.now()
    application.save(update_fields=["decided_at"])
    application_move_stage(
        application=application, to_stage=stage, user=user, note=note, decided=True
    )


MSG_AUTO_OFF = _("automatic decisions are off")
MSG_AUTO_AMOUNT = _("amount above %(limit)s CNY")
MSG_AUTO_GRADE = _("grade %(grade)s, the rule takes %(worst)s or better")
MSG_AUTO_PRODUCT = _("product type not covered by the rule")
MSG_AUTO_BREACH = _("the terms break the grade's controls")
MSG_AUTO_DOCUMENTS = _("documents not all accepted")
MSG_AUTO_ALERTS = _("%(count)s open early warning(s)")
#: Why the rule referred an application, by code (stored as codes and figures, shown in the
#: reader's language).
AUTO_REASONS = {
    "off": MSG_AUTO_OFF,
    "amount": MSG_AUTO_AMOUNT,
    "grade": MSG_AUTO_GRADE,
    "product": MSG_AUTO_PRODUCT,
    "controls": MSG_AUTO_BREACH,
    "documents": MSG_AUTO_DOCUMENTS,
    "alerts": MSG_AUTO_ALERTS,
}


def auto_decision_blockers(application: Application, policy: PolicyConfig) -> list[dict]:
    """The automatic-decision rule's conditions ``application`` fails (empty: it qualifies),
    each a code with its figures (``describe_auto_reasons`` words them)."""
    from .choices import DocumentStatus
    from .hooks import auto_decision_checks

    rule = policy.lending.auto_approval
    if not rule.enabled:
        return [{"code": "off"}]
    blockers: list[dict] = []
    if application.amount > Decimal(str(rule.max_amount_cny)):
        blockers.append({"code": "amount", "limit": f"{rule.max_amount_cny:,.0f}"})
    grade = client_grade(application.customer)
    if grade_rank(policy, grade) > grade_rank(policy, rule.worst_grade):
        blockers.append({"code": "grade", "grade": grade or "—", "worst": rule.worst_grade})
    if rule.product_types and application.product.product_type not in rule.product_types:
        blockers.append({"code": "product"})
    if control_breaches(application, policy):
        blockers.append({"code": "controls"})
    if application.documents.exclude(status=DocumentStatus.ACCEPTED).exists():
        blockers.append({"code": "documents"})
    # The apps above lending add theirs: risk refers a client with open early-warning alerts.
    for check in auto_decision_checks():
        blockers.extend(check(application, policy))
    return blockers


def describe_auto_reasons(reasons: list[dict]) -> list[str]:
    """The rule's stored reasons in the reader's language."""
    words = []
    for reason in reasons or []:
        message = AUTO_REASONS.get(reason.get("code"))
        if message is not None:
            params = {k: v for k, v in reason.items() if k != "code"}
            words.append(str(message) % params if params else str(message))
    return words


def sampled(application_id: int, version: int | None, share: float) -> bool:
    """Whether the rule's random sample takes this application: a uniform draw fixed by the
    application and the policy version (the same answer however often it is asked)."""
    import hashlib

    digest = hashlib.sha256(f"{application_id}:{version}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@transaction.atomic
def application_auto_decide(
    *, application: Application, policy: PolicyConfig, policy_version: int | None
) -> str:
    """Run the automatic-decision rule on an application that has just reached credit review:
    approve it by the rule (a vote of the rule, with its policy version), or leave it for the
    approvers — sampled, or outside the rule with the conditions it failed. Returns the
    outcome (``AutoDecision``), recorded on the application with its reasons."""
    from .choices import RULE_ROLE, AutoDecision

    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("customer", "product", "customer__classification")
        .get(pk=application.pk)
    )
    if application.stage != Stage.CREDIT_REVIEW:
        raise ValidationError(MSG_NOT_AT_REVIEW, code="not_at_review")
    blockers = auto_decision_blockers(application, policy)
    rule = policy.lending.auto_approval
    if blockers:
        outcome = AutoDecision.REFERRED
    elif sampled(application.pk, policy_version, rule.sample_share):
        outcome = AutoDecision.SAMPLED
    else:
        outcome = AutoDecision.APPROVED
    application.auto_decision, application.auto_decision_reasons = outcome, blockers
    application.save(update_fields=["auto_decision", "auto_decision_reasons"])
    if outcome == AutoDecision.APPROVED:
        ApprovalVote.objects.create(
            application=application, user=None, role=RULE_ROLE, vote=Vote.APPROVE,
            policy_version=policy_version,
        )  # fmt: skip
        _close(application, Stage.APPROVED, None, "")
    return outcome
