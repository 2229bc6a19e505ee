"""One of the processes of test_concurrency: submits proposals and races the others to decide."""

import contextlib
import os
import random
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from apps.agents.models import Agent  # noqa: E402
from apps.proposals.services import proposal_decide, proposal_submit  # noqa: E402
from hitlplatform.errors import Conflict  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def main(username: str, agent_id: int, proposal_ids: list[int], submissions: int) -> None:
    reviewer = get_user_model().objects.get(username=username)
    agent = Agent.objects.get(pk=agent_id)
    rng = random.Random(username)
    for index in range(submissions):
        proposal_submit(
            agent=agent,
            fields={"action_type": "crm.update", "payload": {"n": index, "by": username}, "confidence": 0.5},
        )
    rng.shuffle(proposal_ids)
    for proposal_id in proposal_ids:
        # Conflict: another process decided first, exactly what the row lock must produce.
        with contextlib.suppress(Conflict):
            proposal_decide(
                proposal_id=proposal_id,
                reviewer=reviewer,
                verdict=rng.choice(["approve", "reject"]),
                rationale=f"decided by {username}",
                password=sys.argv[5],
            )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), [int(pk) for pk in sys.argv[3].split(",")], int(sys.argv[4]))
