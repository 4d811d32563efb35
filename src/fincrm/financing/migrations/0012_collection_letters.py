"""Collection letter templates (filled in by that work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("financing", "0011_facility_modifications"),
    ]

    operations = []
