from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import PII_ROLES, PORTFOLIO_WIDE_ROLES, Role


class Team(models.Model):
    """A sales or service team; teams nest, and a lead sees every team below theirs."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def subtree_ids(self) -> set[int]:
        """This team and every team below it (one query per level; team trees are shallow)."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(
                Team.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            frontier = [pk for pk in frontier if pk not in ids]
            ids.update(frontier)
        return ids


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        """People are shown by their names (a select of owners, a history row), the login
        name only for an account without one."""
        return self.get_full_name() or self.username

    @property
    def sees_whole_portfolio(self) -> bool:
        return self.is_superuser or self.role in PORTFOLIO_WIDE_ROLES

    @property
    def may_see_pii(self) -> bool:
        return self.is_superuser or self.role in PII_ROLES

    def visible_team_ids(self) -> set[int]:
        """Teams whose clients this user sees as a lead (empty for other roles)."""
        if self.role == Role.TEAM_LEAD and self.team_id:
            return self.team.subtree_ids()
        return set()


class SavedViewQuerySet(models.QuerySet):
    """Saved views are the user's own, not a client's: a user views their own and those
    their team shares, and changes (deletes) only their own. The same ``restrict`` every
    page calls (``fincrm.core.permissions``), with this scope."""

    def restrict(self, user, action: str = "view") -> SavedViewQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        own = models.Q(owner=user)
        if action == "view" and user.team_id:
            return self.filter(own | models.Q(shared=True, owner__team_id=user.team_id))
        return self.filter(own)


class SavedView(models.Model):
    """A list's filters and order saved under a name (issue 19, point 4): the query string
    of one list page, for its owner or, shared, for the owner's team."""

    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_views"
    )
    path = models.CharField(_("page"), max_length=200)
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    shared = models.BooleanField(_("shared with my team"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "path", "name"], name="one_view_name_per_page")
        ]
        indexes = [models.Index(fields=["path", "owner"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path
