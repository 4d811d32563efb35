"""Extension and restructuring through approval: the modification requests, their votes,
and the restructured facility's observation period."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("financing", "0010_tranches"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='facility',
            name='restructured_until',
            field=models.DateField(blank=True, null=True, verbose_name='restructured, observed until'),
        ),
        migrations.AddField(
            model_name='historicalfacility',
            name='restructured_until',
            field=models.DateField(blank=True, null=True, verbose_name='restructured, observed until'),
        ),
        migrations.CreateModel(
            name='FacilityModification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('extension', 'Extension'), ('restructuring', 'Restructuring')], max_length=14, verbose_name='kind')),
                ('status', models.CharField(choices=[('pending', 'Pending approval'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('cancelled', 'Cancelled')], default='pending', max_length=10, verbose_name='status')),
                ('reason', models.CharField(max_length=300, verbose_name='reason')),
                ('extension_months', models.PositiveSmallIntegerField(default=0, verbose_name='extension (months)')),
                ('new_rate', models.DecimalField(blank=True, decimal_places=3, max_digits=6, null=True, verbose_name='new annual rate (%)')),
                ('new_method', models.CharField(blank=True, choices=[('equal_instalment', 'Equal instalments (principal and interest)'), ('equal_principal', 'Equal principal'), ('interest_only', 'Interest first, principal at maturity'), ('bullet', 'Principal and interest at maturity')], max_length=20, verbose_name='new repayment method')),
                ('capitalise_overdue', models.BooleanField(default=False, verbose_name='capitalise what is overdue')),
                ('outstanding_principal', models.DecimalField(decimal_places=2, max_digits=18, verbose_name='outstanding principal (CNY)')),
                ('old_maturity', models.DateField(verbose_name='maturity before')),
                ('old_rate', models.DecimalField(decimal_places=3, max_digits=6, verbose_name='rate before (%)')),
                ('old_method', models.CharField(choices=[('equal_instalment', 'Equal instalments (principal and interest)'), ('equal_principal', 'Equal principal'), ('interest_only', 'Interest first, principal at maturity'), ('bullet', 'Principal and interest at maturity')], max_length=20, verbose_name='repayment method before')),
                ('old_tenor_months', models.PositiveSmallIntegerField(verbose_name='tenor before (months)')),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='requested')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                ('effective_on', models.DateField(blank=True, null=True, verbose_name='effective on')),
                ('override_reason', models.CharField(blank=True, max_length=300, verbose_name='reason for the exception')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('facility', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='modifications', to='financing.facility', verbose_name='facility')),
                ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                ('revision', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='modification', to='financing.schedulerevision', verbose_name='schedule before')),
            ],
            options={
                'verbose_name': 'facility modification',
                'verbose_name_plural': 'facility modifications',
                'ordering': ['facility', '-requested_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalFacilityModification',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('kind', models.CharField(choices=[('extension', 'Extension'), ('restructuring', 'Restructuring')], max_length=14, verbose_name='kind')),
                ('status', models.CharField(choices=[('pending', 'Pending approval'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('cancelled', 'Cancelled')], default='pending', max_length=10, verbose_name='status')),
                ('reason', models.CharField(max_length=300, verbose_name='reason')),
                ('extension_months', models.PositiveSmallIntegerField(default=0, verbose_name='extension (months)')),
                ('new_rate', models.DecimalField(blank=True, decimal_places=3, max_digits=6, null=True, verbose_name='new annual rate (%)')),
                ('new_method', models.CharField(blank=True, choices=[('equal_instalment', 'Equal instalments (principal and interest)'), ('equal_principal', 'Equal principal'), ('interest_only', 'Interest first, principal at maturity'), ('bullet', 'Principal and interest at maturity')], max_length=20, verbose_name='new repayment method')),
                ('capitalise_overdue', models.BooleanField(default=False, verbose_name='capitalise what is overdue')),
                ('outstanding_principal', models.DecimalField(decimal_places=2, max_digits=18, verbose_name='outstanding principal (CNY)')),
                ('old_maturity', models.DateField(verbose_name='maturity before')),
                ('old_rate', models.DecimalField(decimal_places=3, max_digits=6, verbose_name='rate before (%)')),
                ('old_method', models.CharField(choices=[('equal_instalment', 'Equal instalments (principal and interest)'), ('equal_principal', 'Equal principal'), ('interest_only', 'Interest first, principal at maturity'), ('bullet', 'Principal and interest at maturity')], max_length=20, verbose_name='repayment method before')),
                ('old_tenor_months', models.PositiveSmallIntegerField(verbose_name='tenor before (months)')),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='requested')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                ('effective_on', models.DateField(blank=True, null=True, verbose_name='effective on')),
                ('override_reason', models.CharField(blank=True, max_length=300, verbose_name='reason for the exception')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('decided_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('facility', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='financing.facility', verbose_name='facility')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('requested_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                ('revision', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='financing.schedulerevision', verbose_name='schedule before')),
            ],
            options={
                'verbose_name': 'historical facility modification',
                'verbose_name_plural': 'historical facility modifications',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='ModificationVote',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(max_length=16, verbose_name='role')),
                ('vote', models.CharField(choices=[('approve', 'Approve'), ('reject', 'Reject')], max_length=8, verbose_name='decision')),
                ('authority', models.CharField(blank=True, max_length=200, verbose_name='authority used')),
                ('breaches', models.JSONField(blank=True, default=list, verbose_name='controls breached')),
                ('override_reason', models.CharField(blank=True, max_length=300, verbose_name='reason for the exception')),
                ('note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                ('policy_version', models.PositiveIntegerField(blank=True, null=True, verbose_name='policy version')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
                ('modification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='votes', to='financing.facilitymodification')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='approver')),
            ],
            options={
                'verbose_name': 'modification vote',
                'verbose_name_plural': 'modification votes',
                'ordering': ['modification', 'created_at', 'id'],
            },
        ),
        migrations.AddConstraint(
            model_name='facilitymodification',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('facility',), name='one_pending_modification'),
        ),
        migrations.AddConstraint(
            model_name='facilitymodification',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'extension'), _negated=True), ('extension_months__gt', 0), _connector='OR'), name='extension_lengthens'),
        ),
        migrations.AddConstraint(
            model_name='modificationvote',
            constraint=models.UniqueConstraint(fields=('modification', 'user'), name='one_modification_vote_per_approver'),
        ),
    ]
