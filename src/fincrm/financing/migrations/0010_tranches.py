"""Disbursement in tranches (filled in by the tranches work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("financing", "0009_facility_frozen"),
    ]

    operations = []
