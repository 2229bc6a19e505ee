"""manage.py audit_actions: the declared audit actions as the README's Markdown table."""

from django.core.management.base import BaseCommand

from apps.reports.audit_actions import audit_actions_markdown


class Command(BaseCommand):
    help = "Print every declared audit action (the README's table is this output)."

    def handle(self, *args, **options):
        self.stdout.write(audit_actions_markdown(), ending="")
