"""Collection letters: templates per dunning step (seeded with the Chinese defaults) and
the record of every letter produced."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def seed_templates(apps, schema_editor):
    """The default Chinese letters (催收函, 担保人通知函, 律师函), for an administrator to edit."""
    from fincrm.financing.letter_texts import DEFAULT_LETTERS

    Template = apps.get_model("financing", "CollectionLetterTemplate")
    for step, text in DEFAULT_LETTERS.items():
        Template.objects.get_or_create(
            step=step, language="zh-hans", defaults={"title": text["title"], "body": text["body"]}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('financing', '0011_facility_modifications'),
        ('messaging', '0002_message_attachment'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CollectionLetterTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(choices=[('sms', 'SMS reminder'), ('call', 'Phone call'), ('visit', 'Visit'), ('letter', 'Formal letter'), ('guarantor', 'Guarantor notice'), ('legal', 'Legal action'), ('promise_broken', 'Broken promise follow-up')], max_length=16, verbose_name='action')),
                ('language', models.CharField(default='zh-hans', max_length=8, verbose_name='language')),
                ('title', models.CharField(max_length=100, verbose_name='title')),
                ('body', models.TextField(verbose_name='text')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'collection letter template',
                'verbose_name_plural': 'collection letter templates',
                'ordering': ['step', 'language'],
                'constraints': [models.UniqueConstraint(fields=('step', 'language'), name='one_letter_per_step')],
            },
        ),
        migrations.CreateModel(
            name='CollectionLetter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(max_length=60, verbose_name='letter number')),
                ('file_format', models.CharField(choices=[('pdf', 'PDF'), ('docx', 'Word')], max_length=4, verbose_name='format')),
                ('title', models.CharField(max_length=100, verbose_name='title')),
                ('text', models.TextField(verbose_name='text')),
                ('figures', models.JSONField(default=dict, verbose_name='figures')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='produced')),
                ('action', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='letters', to='financing.collectionaction', verbose_name='collection action')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='produced by')),
                ('template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='financing.collectionlettertemplate', verbose_name='template')),
            ],
            options={
                'verbose_name': 'collection letter',
                'verbose_name_plural': 'collection letters',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalCollectionLetterTemplate',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('step', models.CharField(choices=[('sms', 'SMS reminder'), ('call', 'Phone call'), ('visit', 'Visit'), ('letter', 'Formal letter'), ('guarantor', 'Guarantor notice'), ('legal', 'Legal action'), ('promise_broken', 'Broken promise follow-up')], max_length=16, verbose_name='action')),
                ('language', models.CharField(default='zh-hans', max_length=8, verbose_name='language')),
                ('title', models.CharField(max_length=100, verbose_name='title')),
                ('body', models.TextField(verbose_name='text')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='updated')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical collection letter template',
                'verbose_name_plural': 'historical collection letter templates',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddField(
            model_name='collectionaction',
            name='message',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='messaging.message', verbose_name='message'),
        ),
        migrations.AddField(
            model_name='historicalcollectionaction',
            name='message',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='messaging.message', verbose_name='message'),
        ),
        migrations.RunPython(seed_templates, migrations.RunPython.noop),
    ]
