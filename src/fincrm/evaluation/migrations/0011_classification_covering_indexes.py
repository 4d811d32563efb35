"""The classification's per-class indexes carry the client: (tier, client), (grade, client),
(size band, client), (lifecycle, client) instead of the class alone, so the client list's count
of a class reads the index only (issue 23: lists by classification at 100k on SQLite)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0010_classification_run_unchecked")]

    operations = [
        migrations.RemoveIndex(model_name="classification", name="classification_tier"),
        migrations.RemoveIndex(model_name="classification", name="classification_grade"),
        migrations.RemoveIndex(model_name="classification", name="classification_size_band"),
        migrations.RemoveIndex(model_name="classification", name="classification_lifecycle"),
        migrations.AddIndex(
            model_name="classification",
            index=models.Index(fields=["tier", "customer"], name="classification_tier_client"),
        ),
        migrations.AddIndex(
            model_name="classification",
            index=models.Index(fields=["grade", "customer"], name="classification_grade_client"),
        ),
        migrations.AddIndex(
            model_name="classification",
            index=models.Index(fields=["size_band", "customer"], name="classification_size_client"),
        ),
        migrations.AddIndex(
            model_name="classification",
            index=models.Index(fields=["lifecycle", "customer"], name="classification_life_client"),
        ),
    ]
