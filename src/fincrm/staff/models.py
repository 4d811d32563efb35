"""Courses and who took them. A course names the roles that must hold it and how long a
completion stays valid; a training record is one person's sitting of one course."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.accounts.choices import Role

UNKNOWN_ROLE = _("Unknown role: %(roles)s.")


class Course(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    required_roles = models.JSONField(
        _("required for roles"), default=list, blank=True,
        help_text=_("The roles that must complete this course."),
    )  # fmt: skip
    validity_months = models.PositiveSmallIntegerField(
        _("valid for (months)"), null=True, blank=True,
        help_text=_("Empty: a completion never expires."),
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = sorted(set(self.required_roles or []) - set(Role.values))
        if unknown:
            raise ValidationError({"required_roles": UNKNOWN_ROLE % {"roles": ", ".join(unknown)}})

    def required_role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.required_roles if r in Role.values]


class TrainingRecordQuerySet(models.QuerySet):
    """A person sees their own records; a team lead those of the people in their teams and
    sub-teams; executives (read) and admins everyone's. Records are entered and changed by
    leads (their teams) and admins only (``fincrm.staff.rules``)."""

    def restrict(self, user, action: str = "view") -> TrainingRecordQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser or user.role == Role.ADMIN:
            return self
        if action == "view" and user.role == Role.EXECUTIVE:
            return self
        if user.role == Role.TEAM_LEAD:
            team = models.Q(user__team_id__in=user.visible_team_ids())
            return (
                self.filter(team | models.Q(user=user)) if action == "view" else self.filter(team)
            )
        if action == "view":
            return self.filter(user=user)
        return self.none()


class TrainingRecord(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), on_delete=models.PROTECT,
        related_name="training_records",
    )  # fmt: skip
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="records"
    )
    taken_on = models.DateField(_("date"))
    completed = models.BooleanField(_("completed"), default=False)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True, blank=True)
    certificate = models.FileField(_("certificate"), upload_to="training/%Y/%m/", blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = TrainingRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-taken_on", "-pk"]
        indexes = [models.Index(fields=["user", "course", "-taken_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=100),
                name="training_score_0_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.course} · {self.taken_on:%Y-%m-%d}"
