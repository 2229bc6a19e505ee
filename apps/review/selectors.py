"""Reads of the reviewer web app: the work queue, the context of one proposal, history.

The queue is scoped by one list of queue ids read once per request (guardian's direct
foreign-key tables through `queues_reviewable_by`), never by a permission check per row,
so the number of queries stays the same whatever the number of proposals or permissions.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Queue
from apps.accounts.selectors import queues_reviewable_by, user_may_decide
from apps.proposals.models import Decision, PostActionReview, Proposal, ReviewState, Status, Verdict
from apps.proposals.selectors import APPROVING_VERDICTS, proposals_visible_to

WIDE_BLAST_RADIUS = 100
RISK_FILTERS = ("irreversible", "high_exposure", "wide")
AGENT_RECORD_WINDOW = 500
SIMILAR_PROPOSALS = 5


@dataclass(frozen=True)
class QueueFilters:
    queue: str = ""
    action_type: str = ""
    agent: str = ""
    risk: str = ""
    due_soon: bool = False
    search: str = ""


def review_queues_of(user) -> list[Queue]:
    """The queues whose proposals the user may decide (one query; empty for a non-deciding role)."""
    if not user_may_decide(user):
        return []
    return list(queues_reviewable_by(user).order_by("slug"))


def review_queue_proposals(*, user, queues: list[Queue], filters: QueueFilters = QueueFilters()) -> QuerySet[Proposal]:
    """Pending proposals the user may decide, most urgent first.

    Escalations move a proposal into the next tier's queue, so they appear here through the
    queue scope. Proposals of agents the user owns, above the user's authorization level, or
    whose current version the user already approved are left out: the user cannot act on them.
    """
    proposals = (
        _decidable_by(user, queues)
        .select_related("agent", "queue", "policy_rule")
        .order_by("sla_due_at", "id")
    )
    return _filtered(proposals, filters)


def review_queue_counts(*, user, queues: list[Queue]) -> dict[int, int]:
    """Pending proposals per queue id, for the queue tabs (one grouped query)."""
    rows = _decidable_by(user, queues).order_by().values("queue_id").annotate(pending=Count("id"))
    return {row["queue_id"]: row["pending"] for row in rows}


def review_queue_facets(*, user, queues: list[Queue]) -> dict[str, list[str]]:
    """The action types and agents present in the user's queues, for the filter menus."""
    decidable = _decidable_by(user, queues).order_by()
    return {
        "action_types": list(decidable.values_list("action_type", flat=True).distinct().order_by("action_type")[:200]),
        "agents": list(decidable.values_list("agent__name", flat=True).distinct().order_by("agent__name")[:200]),
    }


def approvals_so_far(proposals: list[Proposal]) -> dict[int, int]:
    """Distinct approvals of each proposal's current payload version (one query for a page)."""
    if not proposals:
        return {}
    current = {proposal.pk: proposal.payload_version for proposal in proposals}
    rows = (
        Decision.objects.filter(proposal_id__in=current, verdict__in=APPROVING_VERDICTS)
        .values("proposal_id", "payload_version")
        .annotate(reviewers=Count("reviewer_id", distinct=True))
    )
    counts = dict.fromkeys(current, 0)
    for row in rows:
        if current[row["proposal_id"]] == row["payload_version"]:
            counts[row["proposal_id"]] = row["reviewers"]
    return counts


def review_neighbours(*, user, queues: list[Queue], proposal: Proposal) -> tuple[int | None, int | None]:
    """The previous and next proposal in the user's queue order (for j/k and "next after deciding")."""
    if proposal.sla_due_at is None:
        return None, _first_id(review_queue_proposals(user=user, queues=queues).exclude(pk=proposal.pk))
    ordered = review_queue_proposals(user=user, queues=queues).exclude(pk=proposal.pk)
    due, pk = proposal.sla_due_at, proposal.pk
    after = Q(sla_due_at__gt=due) | Q(sla_due_at=due, id__gt=pk)
    before = Q(sla_due_at__lt=due) | Q(sla_due_at=due, id__lt=pk)
    previous = ordered.filter(before).order_by("-sla_due_at", "-id").values_list("id", flat=True).first()
    following = _first_id(ordered.filter(after)) or _first_id(ordered.filter(before))
    return previous, following


def next_proposal_id(*, user, queues: list[Queue], after: Proposal) -> int | None:
    return review_neighbours(user=user, queues=queues, proposal=after)[1]


def post_reviews_for(*, queues: list[Queue]) -> QuerySet[PostActionReview]:
    """Sampled executions waiting for a post-action review in the user's queues."""
    return (
        PostActionReview.objects.filter(state=ReviewState.QUEUED, queue__in=[queue.pk for queue in queues])
        .select_related("proposal", "proposal__agent", "queue")
        .order_by("sla_due_at", "id")
    )


def agent_record(*, proposal: Proposal) -> dict:
    """How humans decided this agent's recent proposals of this action type."""
    recent = (
        Proposal.objects.filter(agent_id=proposal.agent_id, action_type=proposal.action_type)
        .exclude(pk=proposal.pk)
        .order_by("-created_at")
        .values("id")[:AGENT_RECORD_WINDOW]
    )
    human_approved = Q(status=Status.APPROVED, approved_by="human")
    totals = Proposal.objects.filter(id__in=recent).aggregate(
        submitted=Count("id"),
        approved=Count("id", filter=human_approved & Q(revised_payload__isnull=True)),
        modified=Count("id", filter=human_approved & Q(revised_payload__isnull=False)),
        rejected=Count("id", filter=Q(status=Status.REJECTED)),
        autonomous=Count("id", filter=Q(status=Status.APPROVED, approved_by="policy")),
    )
    decided = totals["approved"] + totals["modified"] + totals["rejected"]
    totals["decided"] = decided
    for key in ("approved", "modified", "rejected"):
        totals[f"{key}_rate"] = round(100 * totals[key] / decided) if decided else None
    return totals


def similar_proposals(*, user, proposal: Proposal) -> list[Proposal]:
    """The latest proposals of the same agent and action type the user may see, with their outcomes."""
    return list(
        proposals_visible_to(user)
        .filter(agent_id=proposal.agent_id, action_type=proposal.action_type)
        .exclude(pk=proposal.pk)
        .order_by("-created_at", "-id")[:SIMILAR_PROPOSALS]
    )


def decisions_of(*, user, verdict: str = "", action_type: str = "", since=None, until=None) -> QuerySet[Decision]:
    decisions = Decision.objects.filter(reviewer=user).select_related("proposal", "proposal__agent").order_by("-signed_at", "-id")
    if verdict in Verdict.values:
        decisions = decisions.filter(verdict=verdict)
    if action_type:
        decisions = decisions.filter(proposal__action_type=action_type)
    if since:
        decisions = decisions.filter(signed_at__date__gte=since)
    if until:
        decisions = decisions.filter(signed_at__date__lte=until)
    return decisions


def decided_action_types(*, user) -> list[str]:
    return list(
        Decision.objects.filter(reviewer=user)
        .order_by("proposal__action_type")
        .values_list("proposal__action_type", flat=True)
        .distinct()[:200]
    )


def _decidable_by(user, queues: list[Queue]) -> QuerySet[Proposal]:
    if not queues:
        return Proposal.objects.none()
    profile = getattr(user, "reviewer_profile", None)
    level = profile.authorization_level if profile is not None else 0
    already_approved = Decision.objects.filter(
        proposal=OuterRef("pk"),
        reviewer=user,
        verdict__in=APPROVING_VERDICTS,
        payload_version=OuterRef("payload_version"),
    )
    return (
        Proposal.objects.filter(status=Status.PENDING, queue_id__in=[queue.pk for queue in queues])
        .filter(Q(policy_rule__isnull=True) | Q(policy_rule__required_authorization_level__lte=level))
        .exclude(agent__owner=user)
        .exclude(Exists(already_approved))
    )


def _filtered(proposals: QuerySet[Proposal], filters: QueueFilters) -> QuerySet[Proposal]:
    if filters.queue:
        proposals = proposals.filter(queue__slug=filters.queue)
    if filters.action_type:
        proposals = proposals.filter(action_type=filters.action_type)
    if filters.agent:
        proposals = proposals.filter(agent__name=filters.agent)
    if filters.risk == "irreversible":
        proposals = proposals.filter(irreversible=True)
    elif filters.risk == "high_exposure":
        proposals = proposals.filter(compliance_exposure="high")
    elif filters.risk == "wide":
        proposals = proposals.filter(blast_radius__gte=WIDE_BLAST_RADIUS)
    if filters.due_soon:
        proposals = proposals.filter(sla_due_at__lte=timezone.now() + timedelta(seconds=settings.REVIEW_DUE_SOON_SECONDS))
    if filters.search:
        term = filters.search.strip().lstrip("#")
        match = Q(summary__icontains=term) | Q(action_type__icontains=term) | Q(external_id=term)
        if term.isdigit():
            match |= Q(pk=int(term))
        proposals = proposals.filter(match)
    return proposals


def _first_id(proposals: QuerySet[Proposal]) -> int | None:
    return proposals.values_list("id", flat=True).first()
