"""manage.py redact_audit_data --seq N --reason TEXT: erase one event's data (GDPR Art. 17)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.audit.services import audit_redact
from hitlplatform.errors import DomainError


class Command(BaseCommand):
    help = _(
        "Delete the data and salt of one audit event and record an audit.redacted event; the chain still verifies."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seq", type=int, required=True)
        parser.add_argument("--reason", required=True, help=_("Why, e.g. the erasure request's reference."))

    def handle(self, *args, seq, reason, **options):
        try:
            redaction = audit_redact(seq=seq, reason=reason)
        except DomainError as error:
            raise CommandError(_flatten(error.fields or error.message)) from error
        self.stdout.write(
            _("Data of event %(seq)s erased; recorded as event %(redaction)s.")
            % {"seq": seq, "redaction": redaction.seq}
        )


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_flatten(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(value) for value in detail)
    return str(detail)
