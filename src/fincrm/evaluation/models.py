"""Results of the evaluation engine: policy versions, runs, per-client snapshots.

``Classification`` is the *current* state of each client (one row, filterable from the client
list); ``Snapshot`` rows are the immutable record of every run, so any past tier or grade can
be explained with the policy version and the reasons that produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.fields import RecordJSONField
from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import Lifecycle, RunKind, RunStatus, Tier


class PolicyVersion(models.Model):
    """One immutable version of the policy; exactly one is active at a time."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    config = models.JSONField(_("configuration"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="policy_one_active_version",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.number}"


class EvaluationRun(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=RunKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    policy = models.ForeignKey(
        PolicyVersion, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="runs"
    )
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    customers_evaluated = models.PositiveIntegerField(_("clients evaluated"), default=0)
    tier_changes = models.PositiveIntegerField(_("tier changes"), default=0)
    tasks_created = models.PositiveIntegerField(_("tasks created"), default=0)
    #: Minimum value score of core / key / ordinary used by this run.
    cutoffs = models.JSONField(_("tier cut-offs"), default=dict)
    #: The fitted k-means segmenter (``KMeansSegmenter.to_dict()``), full runs only.
    clusters = models.JSONField(_("clusters"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    #: When this run's snapshots moved to ``SnapshotArchive`` (None: still in ``Snapshot``).
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def snapshot_model(self) -> type[SnapshotRecord]:
        """The table holding this run's snapshots."""
        return SnapshotArchive if self.archived_at else Snapshot

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class EvaluationPart(models.Model):
    """One id range of a partitioned full run, evaluated by whichever worker takes its job."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="parts")
    first_id = models.PositiveBigIntegerField(_("first client id"))
    end_id = models.PositiveBigIntegerField(_("end client id (excluded)"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    customers_evaluated = models.PositiveIntegerField(_("clients evaluated"), default=0)
    worker = models.CharField(_("worker"), max_length=64, blank=True)
    #: When a worker last took the part (None: queued, not taken since). A taken part whose
    #: row no transaction holds any more lost its worker (``evaluation_parts_requeue``).
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("evaluation part")
        verbose_name_plural = _("evaluation parts")
        ordering = ["run", "first_id"]

    def __str__(self) -> str:
        return f"run {self.run_id} [{self.first_id}, {self.end_id})"


class SnapshotRecord(models.Model):
    """What one run decided about one client, and why: the columns of a snapshot, hot or
    archived."""

    created_at = models.DateTimeField(_("evaluated"), default=timezone.now)
    contribution = models.FloatField(_("contribution"))
    potential = models.FloatField(_("potential"))
    loyalty = models.FloatField(_("loyalty"))
    risk = models.FloatField(_("risk"))
    value_score = models.FloatField(_("value score"))
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    grade = models.CharField(_("credit grade"), max_length=4)
    grade_source = models.CharField(_("grade source"), max_length=10)
    size_band = models.CharField(_("financing size"), max_length=12)
    lifecycle = models.CharField(_("lifecycle"), max_length=10, choices=Lifecycle.choices)
    segments = RecordJSONField(_("segments"), default=list)
    cluster = models.SmallIntegerField(_("cluster"), null=True, blank=True)
    reasons = RecordJSONField(_("reasons"), default=list)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id} @ run {self.run_id}: {self.tier}"


class Snapshot(SnapshotRecord):
    """A snapshot of the recent runs. Never updated after it is written; moved to
    ``SnapshotArchive`` once enough newer full runs exist (``history_archive``)."""

    # No foreign key in the database: a run writes a book of snapshots at once, and checking
    # each row's run at the commit (a trigger call per row) cost 5 s per million rows, for a
    # reference the same run makes to its own row, created before and never deleted but by
    # the ORM (whose CASCADE removes its snapshots). The client's key stays checked.
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="snapshots", db_constraint=False
    )
    # Indexed by (customer, -created_at) below; a second index on customer alone would
    # only slow the 100k-row inserts of every run.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="snapshots", db_index=False
    )

    class Meta(SnapshotRecord.Meta):
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        indexes = [models.Index(fields=["customer", "-created_at"])]


class SnapshotArchive(SnapshotRecord):
    """A snapshot of an older run, with its original id: the same record, out of the table
    every run inserts into (whose indexes would otherwise grow by a book each night)."""

    id = models.BigIntegerField(primary_key=True)
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="archived_snapshots"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta(SnapshotRecord.Meta):
        verbose_name = _("archived snapshot")
        verbose_name_plural = _("archived snapshots")
        indexes = [models.Index(fields=["customer", "-created_at"])]


class Classification(models.Model):
    """The current classification of a client: one row, written by a run when its values
    differ from the stored ones. ``run`` and ``evaluated_at`` are the run that last changed
    the row and when; a client the latest run evaluated without any change keeps them (its
    snapshot of each run is in ``Snapshot``)."""

    customer = models.OneToOneField(
        "customers.Customer",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="classification",
    )
    # The run that last changed the row: written on every row a run rewrites (95k a night at
    # 1M), read by no query. No index, and no database key (a per-row check at the commit),
    # as for ``Snapshot.run``: a run is deleted through the ORM only, whose SET_NULL clears it.
    run = models.ForeignKey(
        EvaluationRun,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    tier_since = models.DateTimeField(_("tier since"))
    # Indexed with the client id below: the list's "sort by value score" walks that index.
    # One decimal, as shown (services.CLASSIFICATION_SCORE_DECIMALS); the snapshot has two.
    value_score = models.FloatField(_("value score"))
    grade = models.CharField(_("credit grade"), max_length=4)
    size_band = models.CharField(_("financing size"), max_length=12)
    lifecycle = models.CharField(_("lifecycle"), max_length=10, choices=Lifecycle.choices)
    segments = models.JSONField(_("segments"), default=list)
    cluster = models.SmallIntegerField(_("cluster"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated"))

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        # The list filters on each of these by equality. Declared here rather than with
        # ``db_index``, which on PostgreSQL adds a second ``varchar_pattern_ops`` index per
        # column for ``LIKE`` prefixes nobody asks of a code: eleven indexes to maintain on
        # every changed row of a nightly run (~430k of 1M) instead of seven. Each carries the
        # client: the list's count of a class reads the index alone, not the rows (the
        # client id is not SQLite's rowid here).
        indexes = [
            models.Index(fields=["value_score", "customer"]),
            models.Index(fields=["tier", "customer"], name="classification_tier_client"),
            models.Index(fields=["grade", "customer"], name="classification_grade_client"),
            models.Index(fields=["size_band", "customer"], name="classification_size_client"),
            models.Index(fields=["lifecycle", "customer"], name="classification_life_client"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tier}"


class TierChange(models.Model):
    """A client moved between tiers: an event on its timeline."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="tier_changes"
    )
    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="+")
    from_tier = models.CharField(_("from"), max_length=10, choices=Tier.choices, blank=True)
    to_tier = models.CharField(_("to"), max_length=10, choices=Tier.choices)
    changed_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier or '—'} → {self.to_tier}"


class SegmentSize(models.Model):
    """How many clients a full run left in each tier, cluster and segment, by account
    manager and team: the segments page sums the rows the user may see instead of decoding a
    million classifications per request. Written by the run (each part of a partitioned run
    writes its own rows: the counts add up); a client is counted once under segment "*" and
    once per segment it is in."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="+")
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    tier = models.CharField(max_length=10, blank=True)
    cluster = models.IntegerField(null=True, blank=True)
    segment = models.CharField(max_length=40, default="*")
    clients = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["run", "segment", "owner_id"])]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.segment} {self.tier}: {self.clients}"
