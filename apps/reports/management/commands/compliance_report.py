"""`manage.py compliance_report --start DATE --end DATE --out FILE [--language L]`: write the signed PDF."""

import shutil
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.reports.models import Report
from apps.reports.services import report_generate, report_request
from hitlplatform.errors import InvalidInput


class Command(BaseCommand):
    help = "Generate the signed compliance report of a period now (no worker needed) and write it to FILE."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=date.fromisoformat, help="First day (YYYY-MM-DD, UTC).")
        parser.add_argument("--end", required=True, type=date.fromisoformat, help="Last day, inclusive.")
        parser.add_argument("--out", required=True, help="Where to write the PDF.")
        parser.add_argument("--language", default="en", help="en, de or fr.")
        parser.add_argument("--agent", default="", help="Only this agent (name).")
        parser.add_argument("--action-type", default="", help="Only this action type, or a prefix ending in *.")

    def handle(self, *args, **options):
        try:
            report = report_request(
                requested_by=None,
                period_start=options["start"],
                period_end=options["end"],
                agent=options["agent"],
                action_type=options["action_type"],
                language=options["language"],
                dispatch=False,
            )
        except InvalidInput as error:
            problems = "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in error.fields.items())
            raise CommandError(problems or str(error)) from error
        report = report_generate(report_id=report.pk)
        if report is None or report.status != Report.Status.READY:
            raise CommandError(f"Report {report.pk if report else '?'} failed: {report.error if report else ''}")
        with report.file.open("rb") as signed, open(options["out"], "wb") as out:
            shutil.copyfileobj(signed, out)
        self.stdout.write(f"{options['out']} sha256={report.sha256} report={report.pk}")
