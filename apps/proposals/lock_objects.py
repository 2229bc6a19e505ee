"""Row locks in one place: every state change of a proposal starts by locking its row."""

from django.utils.translation import gettext as _

from hitlplatform.errors import NotFound

from .models import Proposal


def lock_proposal(proposal_id: int) -> Proposal:
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("agent", "queue", "policy_rule")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal
