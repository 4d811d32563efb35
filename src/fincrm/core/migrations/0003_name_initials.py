"""Pinyin initials of client names (issue 19, point 4), written for the clients there are."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    from fincrm.core.initials import initials

    customer = apps.get_model("customers", "Customer")
    model = apps.get_model("core", "NameInitials")
    batch = []
    for pk, name in customer.objects.order_by("pk").values_list("pk", "name").iterator(2000):
        batch.append(model(customer_id=pk, initials=initials(name)))
        if len(batch) >= 2000:
            model.objects.bulk_create(batch)
            batch = []
    model.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_access_search_pii"),
        ("customers", "0011_sqlite_industry_name_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameInitials",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="customers.customer",
                        verbose_name="client",
                    ),
                ),
                (
                    "initials",
                    models.CharField(db_index=True, max_length=100, verbose_name="pinyin initials"),
                ),
            ],
            options={
                "verbose_name": "pinyin initials",
                "verbose_name_plural": "pinyin initials",
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
