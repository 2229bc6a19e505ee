from django.db import migrations


class Migration(migrations.Migration):
    """The model moves to the accounts app; its table stays where it is."""

    dependencies = [("escalations", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="QueueCalendar")]),
    ]
