"""The staging table of deferred chaining (AUDIT_CHAINING = "deferred"); it refuses UPDATE."""

from django.db import migrations, models

from apps.audit import immutability


def install_triggers(apps, schema_editor):
    immutability.install_pending(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    immutability.remove_pending(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditPendingEvent',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('timestamp', models.DateTimeField()),
                ('actor_type', models.CharField(choices=[('user', 'user'), ('agent', 'agent'), ('system', 'system')], max_length=16)),
                ('actor_id', models.CharField(max_length=64)),
                ('action', models.CharField(max_length=100)),
                ('object_type', models.CharField(blank=True, max_length=100)),
                ('object_id', models.CharField(blank=True, max_length=64)),
                ('data_hash', models.CharField(max_length=64)),
                ('salt', models.CharField(max_length=64)),
                ('canonical_data', models.TextField()),
                ('schema_version', models.PositiveSmallIntegerField(default=1)),
            ],
            options={
                'db_table': 'audit_pending_event',
                'ordering': ['id'],
            },
        ),
        migrations.RunPython(install_triggers, remove_triggers, elidable=False),
    ]
