"""Extension and restructuring through approval (filled in by that work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("financing", "0010_tranches"),
    ]

    operations = []
