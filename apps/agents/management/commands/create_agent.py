import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.agents.services import agent_create
from hitlplatform.errors import DomainError


class Command(BaseCommand):
    help = "Register an AI agent and print its API key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--owner", help="Username of the accountable owner (who may not review it).")
        parser.add_argument("--callback-url", default="", help="Webhook URL for decisions.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, name, owner, callback_url, **options):
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"No user named {owner}.")
        try:
            agent, key = agent_create(name=name, owner=owner_user, callback_url=callback_url)
        except DomainError as error:
            raise CommandError(error.message) from error
        result = {"id": agent.pk, "name": agent.name, "key": key, "webhook_secret": agent.webhook_secret}
        if options["json"]:
            self.stdout.write(_dumps(result))
        else:
            self.stdout.write(f"Agent {agent.name} (id {agent.pk}) created.")
            self.stdout.write(f"API key (shown once): {key}")
            self.stdout.write(f"Webhook secret: {agent.webhook_secret}")


def _dumps(value) -> str:
    return json.dumps(value)
