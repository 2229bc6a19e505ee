import django.db.models.deletion
from django.db import migrations, models

import apps.accounts.models


class Migration(migrations.Migration):
    """QueueCalendar joins its queue in the accounts app; the table (escalations_queuecalendar) stays."""

    dependencies = [
        ("accounts", "0002_role_groups"),
        ("escalations", "0002_queuecalendar_moved_to_accounts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="QueueCalendar",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("timezone", models.CharField(default="UTC", help_text="e.g. Europe/Berlin", max_length=64, verbose_name="time zone")),
                        ("working_days", models.JSONField(default=apps.accounts.models._working_days_default, help_text="Weekday numbers, Monday = 0 ... Sunday = 6.", verbose_name="working days")),
                        ("opens_at", models.TimeField(default="09:00", verbose_name="opens at")),
                        ("closes_at", models.TimeField(default="17:00", verbose_name="closes at")),
                        ("queue", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="calendar", to="accounts.queue", verbose_name="queue")),
                    ],
                    options={
                        "db_table": "escalations_queuecalendar",
                        "verbose_name": "queue business hours",
                        "verbose_name_plural": "queue business hours",
                    },
                ),
            ]
        ),
    ]
