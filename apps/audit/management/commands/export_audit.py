"""manage.py export_audit --start DATE --end DATE --out bundle.zip: a bundle to verify offline."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.audit.bundles import audit_bundle_export
from hitlplatform.errors import DomainError


class Command(BaseCommand):
    help = _(
        "Export the audit events of a period (UTC days, inclusive) with checkpoints, public key and proofs "
        "as a zip that apps/audit/offline/verify_bundle.py verifies without the platform."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
        parser.add_argument("--end", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
        parser.add_argument("--out", required=True, help=_("Path of the zip to write."))

    def handle(self, *args, start, end, out, **options):
        try:
            manifest = audit_bundle_export(start=start, end=end, out=out)
        except DomainError as error:
            messages = [str(message) for field_messages in error.fields.values() for message in field_messages]
            raise CommandError(" ".join(messages) or str(error.message)) from error
        self.stdout.write(
            _("Wrote %(out)s: events %(first)s..%(last)s, covered by the checkpoint of %(size)s events.")
            % {
                "out": out,
                "first": manifest["first_seq"],
                "last": manifest["last_seq"],
                "size": manifest["covering_checkpoint"]["tree_size"],
            }
        )
