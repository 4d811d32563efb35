"""Disbursement in tranches: the plan of an application's drawdowns and what was drawn."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("financing", "0009_facility_frozen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalTranche",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField(verbose_name="number")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, max_digits=18, verbose_name="amount (CNY)"
                    ),
                ),
                ("planned_on", models.DateField(verbose_name="planned for")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("planned", "Planned"),
                            ("disbursed", "Disbursed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="planned",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "disbursed_on",
                    models.DateField(blank=True, null=True, verbose_name="disbursed on"),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "application",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="financing.application",
                        verbose_name="application",
                    ),
                ),
                (
                    "disbursed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="disbursed by",
                    ),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="financing.facility",
                        verbose_name="facility",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical tranche",
                "verbose_name_plural": "historical tranches",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Tranche",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField(verbose_name="number")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, max_digits=18, verbose_name="amount (CNY)"
                    ),
                ),
                ("planned_on", models.DateField(verbose_name="planned for")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("planned", "Planned"),
                            ("disbursed", "Disbursed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="planned",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "disbursed_on",
                    models.DateField(blank=True, null=True, verbose_name="disbursed on"),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tranches",
                        to="financing.application",
                        verbose_name="application",
                    ),
                ),
                (
                    "disbursed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="disbursed by",
                    ),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tranches",
                        to="financing.facility",
                        verbose_name="facility",
                    ),
                ),
            ],
            options={
                "verbose_name": "tranche",
                "verbose_name_plural": "tranches",
                "ordering": ["application", "number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("application", "number"), name="one_tranche_number"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="tranche_amount_positive"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("disbursed_on__isnull", False),
                                ("facility__isnull", False),
                                ("status", "disbursed"),
                            ),
                            models.Q(
                                models.Q(("status", "disbursed"), _negated=True),
                                ("disbursed_on__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="tranche_drawn_into_facility",
                    ),
                ],
            },
        ),
    ]
