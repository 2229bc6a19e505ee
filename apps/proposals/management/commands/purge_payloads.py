from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.proposals.retention import proposal_payloads_purge
from hitlplatform.errors import DomainError


class Command(BaseCommand):
    help = "Purge the content of final proposals created before DATE (audit events are never deleted)."

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, before, reason, **options):
        try:
            purged = proposal_payloads_purge(before=before, reason=reason)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Purged the payloads of {purged} proposals created before {before}.")
