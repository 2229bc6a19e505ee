"""`flush` that still works on the append-only audit tables (the test runner flushes between tests).

The triggers are lifted for the flush and restored after; it needs the table owner's rights,
which the application role of a deployment does not have (docs/audit.md).
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from apps.audit import immutability


class Command(FlushCommand):
    help = FlushCommand.help + " The audit trail's append-only triggers are lifted for the flush and restored."

    def handle(self, **options):
        connection = connections[options["database"]]
        if "audit_event" not in connection.introspection.table_names():
            return super().handle(**options)
        with immutability.suspended(connection):
            return super().handle(**options)
