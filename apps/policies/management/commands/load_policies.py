from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.policies.selectors import policy_staffing_gaps
from apps.policies.services import policy_load_yaml
from hitlplatform.errors import DomainError


class Command(BaseCommand):
    help = "Load a YAML policy file as a new, active policy version."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--comment", default="")
        parser.add_argument("--draft", action="store_true", help="Create a draft for another admin to activate.")
        parser.add_argument(
            "--allow-unstaffed",
            action="store_true",
            help="Activate even where a rule's queue or escalation tier has nobody who may decide (audited warning).",
        )

    def handle(self, *args, file, comment, draft, allow_unstaffed, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            version = policy_load_yaml(
                text=path.read_text(),
                comment=comment or f"loaded from {path.name}",
                activate=not draft,
                allow_unstaffed=allow_unstaffed,
            )
        except DomainError as error:
            if error.code == "unstaffed":
                raise CommandError(str(error.message)) from error
            details = "; ".join(f"{key}: {' '.join(map(str, value))}" for key, value in error.fields.items())
            raise CommandError(f"{error.message} {details}".strip()) from error
        self.stdout.write(f"Policy version {version.number} ({version.status}) with {version.rules.count()} rules.")
        for gap in policy_staffing_gaps(version.rules.order_by("priority")) if allow_unstaffed else ():
            self.stderr.write(f"Warning: unstaffed, accepted: {gap}")
