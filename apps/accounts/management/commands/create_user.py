import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Role
from apps.accounts.services import token_create, user_create
from hitlplatform.errors import DomainError


class Command(BaseCommand):
    help = "Create a user with a role, optional queue permissions and an optional API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--queue", action="append", default=[], help="Grant review in this queue (repeatable).")
        parser.add_argument("--authorization-level", type=int, default=1)
        parser.add_argument("--licence-number", default="")
        parser.add_argument("--name", default="", help="Printed name, as shown on signatures.")
        parser.add_argument("--token", action="store_true", help="Also issue an API token (shown once).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        first, _sep, last = options["name"].partition(" ")
        try:
            user = user_create(
                username=options["username"],
                password=options["password"],
                role=options["role"],
                queues=options["queue"],
                authorization_level=options["authorization_level"],
                licence_number=options["licence_number"],
                first_name=first,
                last_name=last,
            )
        except DomainError as error:
            raise CommandError(f"{error.message} {error.fields or ''}".strip()) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        key = token_create(user=user, name="cli")[1] if options["token"] else None
        result = {"id": user.pk, "username": user.username, "token": key}
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"User {user.username} (id {user.pk}) created with role {options['role']}.")
            if key:
                self.stdout.write(f"API token (shown once): {key}")
