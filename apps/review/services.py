"""Writes of the reviewer web app: what a reviewer looked at, and batch decisions.

Deciding itself is `apps.proposals.services.proposal_decide`; this module adds only what
the web app needs around it.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.proposals.models import Decision, Proposal, Verdict
from apps.proposals.services import proposal_decide_in_batch, signing_batch_start
from hitlplatform.errors import DomainError, InvalidInput

from .events import ReviewEvents

BATCH_VERDICTS = (Verdict.APPROVE, Verdict.REJECT)
BATCH_MAX = 100


@dataclass(frozen=True)
class BatchOutcome:
    proposal_id: int
    decision: Decision | None = None
    error: str = ""


@transaction.atomic
def proposal_view_record(*, proposal: Proposal, user) -> None:
    """Opening a proposal is evidence of review (what the reviewer saw before signing)."""
    audit_record(
        action=ReviewEvents.VIEWED,
        actor=user,
        obj=proposal,
        data={"payload_version": proposal.payload_version, "status": proposal.status},
    )


def proposals_decide_batch(
    *, proposal_ids: list[int], reviewer, verdict: str, rationale: str, password: str, username: str | None = None
) -> list[BatchOutcome]:
    """One rationale and one signature for several proposals; each gets its own decision.

    21 CFR 11.200(a)(1)(i): the password is verified once, for the batch (one continuous session),
    before anything is written, so a wrong password writes nothing; each decision records that
    batch. Each proposal is then decided in its own transaction, all or nothing for that proposal:
    one that cannot be decided (claimed or taken by someone else, already final) is reported in its
    outcome without undoing the others.
    """
    if verdict not in BATCH_VERDICTS:
        raise InvalidInput(fields={"verdict": [_("A batch can only approve or reject.")]})
    if not proposal_ids:
        raise InvalidInput(fields={"proposals": [_("Select at least one proposal.")]})
    if len(proposal_ids) > BATCH_MAX:
        raise InvalidInput(fields={"proposals": [_("Select at most %(count)s proposals.") % {"count": BATCH_MAX}]})
    if not rationale.strip():
        raise InvalidInput(fields={"rationale": [_("A rationale is required.")]})
    kinds = set(Proposal.objects.filter(pk__in=proposal_ids).values_list("action_type", "policy_rule_id"))
    if len(kinds) > 1:
        raise InvalidInput(fields={"proposals": [_("A batch must share one action type and one rule.")]})
    proposal_ids = list(dict.fromkeys(proposal_ids))
    batch = signing_batch_start(
        reviewer=reviewer,
        password=password,
        username=username,
        verdict=verdict,
        rationale=rationale,
        size=len(proposal_ids),
    )
    outcomes = []
    for proposal_id in proposal_ids:
        try:
            decision = proposal_decide_in_batch(proposal_id=proposal_id, batch=batch)
        except DomainError as error:
            outcomes.append(BatchOutcome(proposal_id=proposal_id, error=str(error.message)))
        else:
            outcomes.append(BatchOutcome(proposal_id=proposal_id, decision=decision))
    return outcomes
