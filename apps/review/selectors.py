"""Reads of the reviewer web app: the work queue, the context of one proposal, history.

The queue is scoped by one list of queue ids read once per request (guardian's direct
foreign-key tables through `queues_reviewable_by`), never by a permission check per row,
so the number of queries stays the same whatever the number of proposals or permissions.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Queue
from apps.accounts.selectors import queues_reviewable_by, user_may_decide
from apps.agents.models import Agent
from apps.policies.models import PolicyRule
from apps.proposals import figures
from apps.proposals.models import Decision, PostActionReview, Proposal, ReviewState, Status, Verdict
from apps.proposals.selectors import APPROVING_VERDICTS, proposals_visible_to
from hitlplatform.ids import id_parse

from .diffs import payload_changes

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
    proposals = _decidable_by(user, queues).select_related("agent", "queue", "policy_rule", "claimed_by")
    proposals = proposals.order_by("sla_due_at", "id")
    return _filtered(proposals, filters)


def review_queue_counts(*, user, queues: list[Queue]) -> dict[int, int]:
    """Pending proposals per queue id, for the queue tabs.

    Counted as all pending minus those the user already approved: the first count reads only
    the (queue, status, due) index, the second only the user's own recent decisions.
    """
    if not queues:
        return {}
    pending = _pending_for(user, queues).order_by()
    counts = {row["queue_id"]: row["pending"] for row in pending.values("queue_id").annotate(pending=Count("*"))}
    approved = pending.filter(id__in=_approved_by(user)).values("queue_id").annotate(pending=Count("*"))
    for row in approved:
        counts[row["queue_id"]] -= row["pending"]
    return counts


def review_queue_facets(*, queues: list[Queue]) -> dict[str, list[str]]:
    """The action types and agents pending in these queues, for the filter menus.

    Menu options may lag a little: they are cached per set of queues (REVIEW_FACETS_CACHE_SECONDS).
    """
    if not queues:
        return {"action_types": [], "agents": []}
    ids = sorted(queue.pk for queue in queues)
    key = "review-facets:" + ",".join(map(str, ids))
    facets = cache.get(key)
    if facets is None:
        pending = Proposal.objects.filter(status=Status.PENDING, queue_id__in=ids).order_by()
        facets = {
            "action_types": list(
                pending.values_list("action_type", flat=True).distinct().order_by("action_type")[:200]
            ),
            "agents": list(
                Agent.objects.filter(id__in=pending.values("agent_id"))
                .order_by("name")
                .values_list("name", flat=True)[:200]
            ),
        }
        cache.set(key, facets, settings.REVIEW_FACETS_CACHE_SECONDS)
    return facets


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
    """The previous and next proposal in the user's queue order (for j/k and "next after deciding").

    Ties on the due instant are looked up apart from the strict comparisons: each query then
    walks the (status, due) index and stops at the first row, where an OR would scan the queue.
    """
    ordered = review_queue_proposals(user=user, queues=queues).exclude(pk=proposal.pk)
    due, pk = proposal.sla_due_at, proposal.pk
    if due is None:
        return None, _first_id(ordered)
    # Four small lookups, always all four, so the page's query count does not depend on the data.
    previous_tie = _first_id(ordered.filter(sla_due_at=due, id__lt=pk).order_by("-id"))
    previous = _first_id(ordered.filter(sla_due_at__lt=due).order_by("-sla_due_at", "-id"))
    following_tie = _first_id(ordered.filter(sla_due_at=due, id__gt=pk).order_by("id"))
    following = _first_id(ordered.filter(sla_due_at__gt=due))
    previous = previous_tie or previous
    return previous, following_tie or following or previous


def next_proposal_id(*, user, queues: list[Queue], after: Proposal) -> int | None:
    return review_neighbours(user=user, queues=queues, proposal=after)[1]


def current_version_approvers(proposal: Proposal) -> set[int]:
    """Who approved the proposal's current payload version (from the prefetched decisions: no query)."""
    return {
        decision.reviewer_id
        for decision in proposal.decisions.all()
        if decision.verdict in APPROVING_VERDICTS and decision.payload_version == proposal.payload_version
    }


def approved_current_version_by(*, proposal: Proposal, user) -> bool:
    """Whether the user already approved the proposal's current payload version."""
    return user.pk in current_version_approvers(proposal)


def proposal_moved_away_from(*, user, proposal_id: int) -> Proposal | None:
    """The proposal, when an escalation took it out of a queue the user reviews; else None.

    Says only what the user could have seen before the escalation: the item was theirs to review.
    """
    proposal = (
        Proposal.objects.select_related("queue", "policy_rule")
        .filter(pk=proposal_id, escalation_level__gt=0, policy_rule__isnull=False)
        .first()
    )
    if proposal is None:
        return None
    rule = proposal.policy_rule
    earlier = {rule.queue, *list(rule.escalation or [])[: proposal.escalation_level - 1]}
    if not any(queue.slug in earlier for queue in review_queues_of(user)):
        return None
    return proposal


def post_reviews_for(*, queues: list[Queue]) -> QuerySet[PostActionReview]:
    """Sampled executions waiting for a post-action review in the user's queues."""
    return (
        PostActionReview.objects.filter(state=ReviewState.QUEUED, queue__in=[queue.pk for queue in queues])
        .select_related("proposal", "proposal__agent", "queue")
        .order_by("sla_due_at", "id")
    )


def agent_record(*, proposal: Proposal) -> dict:
    """How humans decided this agent's recent proposals of this action type.

    A slowly moving statistic over hundreds of rows: cached per agent and action type
    (REVIEW_STATS_CACHE_SECONDS).
    """
    key = f"review-agent-record:{proposal.agent_id}:{proposal.action_type}"
    record = cache.get(key)
    if record is None:
        record = _agent_record(agent_id=proposal.agent_id, action_type=proposal.action_type)
        cache.set(key, record, settings.REVIEW_STATS_CACHE_SECONDS)
    return record


def _agent_record(*, agent_id: int, action_type: str) -> dict:
    recent = (
        Proposal.objects.filter(agent_id=agent_id, action_type=action_type)
        .order_by("-created_at")
        .values("id")[:AGENT_RECORD_WINDOW]
    )
    totals = Proposal.objects.filter(id__in=recent).aggregate(
        submitted=Count("id"),
        approved=Count("id", filter=figures.HUMAN_APPROVED),
        modified=Count("id", filter=figures.MODIFIED),
        rejected=Count("id", filter=figures.REJECTED),
        changes_requested=Count("id", filter=figures.CHANGES_REQUESTED),
        expired=Count("id", filter=figures.EXPIRED),
        autonomous=Count("id", filter=Q(status=Status.APPROVED, approved_by="policy") & ~figures.PRE_APPROVAL),
    )
    # by a human; the rates are over closed ones
    totals["decided"] = totals["approved"] + totals["rejected"] + totals["changes_requested"]
    totals.update(
        figures.closed_outcome_rates(
            approved=totals["approved"],
            modified=totals["modified"],
            rejected=totals["rejected"],
            changes_requested=totals["changes_requested"],
            expired=totals["expired"],
        )
    )
    for name in ("approval", "modification", "rejection", "redirect", "expiry"):
        share = totals[f"{name}_rate"]
        totals[f"{name}_percent"] = None if share is None else round(100 * share)
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
    decisions = (
        Decision.objects.filter(reviewer=user)
        .select_related("proposal", "proposal__agent")
        .order_by("-signed_at", "-id")
    )
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


@dataclass(frozen=True)
class ThreadEntry:
    """One proposal of a revision thread, what the reviewer asked of it, and what its revision changed."""

    proposal: Proposal
    request: Decision | None  # the request_changes decision that sent it back, if any
    changes: list[dict] | None  # payload diff from the previous revision (None for the first)


def proposal_thread(*, user, proposal: Proposal) -> list[ThreadEntry]:
    """Every revision of the proposal's thread the user may see, oldest first (two queries);
    empty when the proposal was never redirected nor revised."""
    alone = proposal.revision_root_id is None and proposal.revised_by_id is None
    if alone and proposal.status != Status.CHANGES_REQUESTED:
        return []
    root = proposal.revision_root_id or proposal.pk
    chain = list(proposals_visible_to(user).filter(Q(pk=root) | Q(revision_root_id=root)).order_by("revision", "id"))
    requests = {
        decision.proposal_id: decision
        for decision in Decision.objects.filter(
            proposal__in=[entry.pk for entry in chain], verdict=Verdict.REQUEST_CHANGES
        ).select_related("reviewer")
    }
    entries, previous = [], None
    for revision in chain:
        changes = payload_changes(previous.payload, revision.payload) if previous is not None else None
        entries.append(ThreadEntry(proposal=revision, request=requests.get(revision.pk), changes=changes))
        previous = revision
    return entries


def reassign_targets() -> list[Queue]:
    return list(Queue.objects.order_by("slug"))


def _decidable_by(user, queues: list[Queue]) -> QuerySet[Proposal]:
    if not queues:
        return Proposal.objects.none()
    # Uncorrelated: the database evaluates the user's approvals once, not once per row.
    return _pending_for(user, queues).exclude(id__in=_approved_by(user))


def _pending_for(user, queues: list[Queue]) -> QuerySet[Proposal]:
    """Pending in the queues, less what the user may never decide (above their level, own agents)."""
    excluded_rules, owned_agents = _exclusions_of(user)
    proposals = Proposal.objects.filter(status=Status.PENDING, queue_id__in=[queue.pk for queue in queues])
    # Usually both lists are empty, and then the index on (queue, status, due) answers alone.
    if excluded_rules:
        proposals = proposals.exclude(policy_rule_id__in=excluded_rules)
    if owned_agents:
        proposals = proposals.exclude(agent_id__in=owned_agents)
    return proposals


def _approved_by(user) -> QuerySet[Decision]:
    """Pending proposals whose current version the user approved: another reviewer must act."""
    return Decision.objects.filter(
        reviewer=user,
        verdict__in=APPROVING_VERDICTS,
        proposal__status=Status.PENDING,
        payload_version=F("proposal__payload_version"),
    ).values("proposal_id")


def _exclusions_of(user) -> tuple[list[int], list[int]]:
    """Rules above the user's authorization level and agents the user owns (read once per request)."""
    cached = getattr(user, "_review_exclusions", None)
    if cached is None:
        profile = getattr(user, "reviewer_profile", None)
        level = profile.authorization_level if profile is not None else 0
        cached = (
            list(
                PolicyRule.objects.filter(required_authorization_level__gt=level)
                .order_by()
                .values_list("id", flat=True)
            ),
            list(Agent.objects.filter(owner=user).order_by().values_list("id", flat=True)),
        )
        user._review_exclusions = cached
    return cached


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
        proposals = proposals.filter(
            sla_due_at__lte=timezone.now() + timedelta(seconds=settings.REVIEW_DUE_SOON_SECONDS)
        )
    if filters.search:
        term = filters.search.strip().lstrip("#")
        match = Q(summary__icontains=term) | Q(action_type__icontains=term) | Q(external_id=term)
        if (proposal_id := id_parse(term)) is not None:
            match |= Q(pk=proposal_id)
        proposals = proposals.filter(match)
    return proposals


def _first_id(proposals: QuerySet[Proposal]) -> int | None:
    return proposals.values_list("id", flat=True).first()
