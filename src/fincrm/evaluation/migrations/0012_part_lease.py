"""A part of a partitioned run records when a worker took it and how many times: a taken part
whose worker died is queued again (``evaluation_parts_requeue``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0011_classification_covering_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationpart",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="evaluationpart",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="started"),
        ),
    ]
