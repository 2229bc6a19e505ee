"""manage.py sweep_sla: run the SLA sweep now (the same service Celery beat runs)."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.escalations.services import sla_sweep


class Command(BaseCommand):
    help = _("Remind, escalate and expire overdue proposals now, as the Celery beat sweep does.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--json", action="store_true", dest="as_json", help=_("Print one JSON object on stdout."))

    def handle(self, *args, batch_size, as_json, **options):
        # A command runs to completion; the beat task keeps to its time budget instead.
        result = sla_sweep(batch_size=batch_size, max_seconds=float("inf"))
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), sort_keys=True))
        else:
            self.stdout.write(
                _(
                    "SLA sweep: %(reminded)s reminded, %(escalated)s escalated, %(expired)s expired, "
                    "%(approved)s approved on expiry, %(reviews)s post-action reviews escalated, "
                    "%(overdue)s reviews overdue at the last tier."
                )
                % {
                    "reminded": result.reminded,
                    "escalated": result.escalated,
                    "expired": result.expired,
                    "approved": result.approved_on_expiry,
                    "reviews": result.reviews_escalated,
                    "overdue": result.reviews_overdue,
                }
            )
