import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.services import token_create


class Command(BaseCommand):
    help = "Issue an API token to an existing user (shown once); the user's other tokens stay valid."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for, as listed in the admin.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}.")
        if not user.is_active:
            raise CommandError(f"User {username} is inactive.")
        token, key = token_create(user=user, name=name)
        if options["json"]:
            self.stdout.write(json.dumps({"username": user.username, "token": key, "prefix": token.prefix}))
        else:
            self.stdout.write(f"API token for {user.username} (shown once): {key}")
