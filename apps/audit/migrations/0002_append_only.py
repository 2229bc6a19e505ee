"""The audit tables become append-only in the database itself (apps.audit.immutability)."""

from django.db import migrations

from apps.audit import immutability


def install_triggers(apps, schema_editor):
    immutability.install(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    immutability.remove(schema_editor.connection)


def create_chain_head(apps, schema_editor):
    apps.get_model("audit", "ChainHead").objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_chain_head, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(install_triggers, remove_triggers, elidable=False),
    ]
