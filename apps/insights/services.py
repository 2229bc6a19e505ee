"""Writes of the insights app: the nightly figures and recommendations, accepting or dismissing
advice (which only ever drafts a policy version that a second admin activates), and reviewer QA.
"""

import hashlib
import json
from datetime import timedelta

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role
from apps.accounts.selectors import queues_reviewable_by, user_has_role
from apps.audit.services import audit_record, audit_record_many
from apps.policies.models import PolicyVersion
from apps.policies.sampling import sampling_draw
from apps.policies.services import policy_version_activate, policy_version_create, rule_definition
from apps.proposals.models import Decision
from apps.proposals.services import signature_verify
from hitlplatform.errors import Conflict, Forbidden, InvalidInput, NotFound

from .events import InsightEvents
from .models import FigureSet, QaAssignment, Recommendation
from .recommendation_rules import recommendation_candidates
from .selectors import VERDICTS, WINDOWS, figures_for, window_for

QA_SIGNATURE_MEANING = "reviewed (quality assurance)"
QA_BATCH = 200  # assignments per transaction: fewer commits, short holds of the audit chain head


def insights_nightly_compute(*, now=None) -> dict:
    """The beat's nightly run: store the figures, compute the advice, draw the QA sample."""
    now = now or timezone.now()
    stored = figures_store(now=now)
    created = recommendations_compute(now=now)
    assigned = qa_assignments_sample(now=now)
    return {"figure_sets": stored, "recommendations": len(created), "qa_assignments": assigned}


def figures_store(*, now=None) -> int:
    """The figures of 7, 30 and 90 days, computed first and then stored in one short transaction."""
    now = now or timezone.now()
    rows = [
        FigureSet(
            computed_at=now,
            window_days=days,
            agent_id=figures["agent_id"],
            action_type=figures["action_type"],
            rule_name=figures["rule"] or "",
            figures=figures,
        )
        for days in WINDOWS
        for figures in figures_for(window=window_for(days=days, now=now))
    ]
    with transaction.atomic():
        FigureSet.objects.bulk_create(rows, batch_size=1000)
        audit_record(action=InsightEvents.FIGURES_STORED, data={"computed_at": now, "figure_sets": len(rows)})
    return len(rows)


@transaction.atomic
def recommendations_compute(*, now=None) -> list[Recommendation]:
    """New advice for the active policy; the same advice is never made twice for one version."""
    now = now or timezone.now()
    version = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).first()
    _note_drafts_activated_elsewhere()
    _supersede_stale(version)
    if version is None:
        return []
    created = []
    for candidate in recommendation_candidates(version=version, now=now):
        fingerprint = _fingerprint(candidate, version)
        if Recommendation.objects.filter(fingerprint=fingerprint).exists():
            continue
        recommendation = Recommendation.objects.create(
            kind=candidate["kind"],
            policy_version=version,
            rule_name=candidate["rule_name"],
            change=candidate["change"],
            evidence=candidate["evidence"],
            fingerprint=fingerprint,
            created_at=now,
        )
        audit_record(
            action=InsightEvents.RECOMMENDATION_CREATED,
            obj=recommendation,
            data={
                "kind": recommendation.kind,
                "rule": recommendation.rule_name,
                "policy_version": version.number,
                "change": recommendation.change,
                "evidence": recommendation.evidence,
            },
        )
        created.append(recommendation)
    return created


@transaction.atomic
def recommendation_accept(*, recommendation_id: int, actor, note: str = "") -> Recommendation:
    """An admin accepts: a draft version with the change; it needs a different admin to activate it."""
    _ensure_admin(actor)
    recommendation = _lock_recommendation(recommendation_id)
    if recommendation.state != Recommendation.State.OPEN:
        raise Conflict(_("Only an open recommendation can be accepted."), code="not_open")
    active = PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).first()
    if active is None or active.pk != recommendation.policy_version_id:
        raise Conflict(_("The policy changed since this recommendation was made."), code="stale_recommendation")
    rules = [rule_definition(rule) for rule in active.rules.order_by("priority")]
    target = next((rule for rule in rules if rule["name"] == recommendation.rule_name), None)
    if target is None:
        raise Conflict(_("The active policy has no rule %(rule)s.") % {"rule": recommendation.rule_name})
    target.update(recommendation.change)
    draft = policy_version_create(
        rules=rules,
        source=yaml.safe_dump({"rules": rules}, sort_keys=False, allow_unicode=True),
        comment=_("Recommendation #%(id)s: %(kind)s for rule %(rule)s")
        % {"id": recommendation.pk, "kind": recommendation.kind, "rule": recommendation.rule_name},
        actor=actor,
        activate=False,
    )
    recommendation.state = Recommendation.State.ACCEPTED
    recommendation.draft_version = draft
    recommendation.decided_by, recommendation.decided_at, recommendation.note = actor, timezone.now(), note
    recommendation.save(update_fields=["state", "draft_version", "decided_by", "decided_at", "note"])
    audit_record(
        action=InsightEvents.RECOMMENDATION_ACCEPTED,
        actor=actor,
        obj=recommendation,
        data={
            "draft_version": draft.number,
            "rule": recommendation.rule_name,
            "change": recommendation.change,
            "note": note,
        },
    )
    return recommendation


@transaction.atomic
def recommendation_activate(*, recommendation_id: int, actor) -> Recommendation:
    """A second admin activates the draft (policy_version_activate refuses whoever drafted it)."""
    _ensure_admin(actor)
    recommendation = _lock_recommendation(recommendation_id)
    if recommendation.state != Recommendation.State.ACCEPTED:
        raise Conflict(_("Only an accepted recommendation has a draft to activate."), code="not_accepted")
    if recommendation.decided_by_id == actor.pk:
        raise Forbidden(_("A different administrator must activate a policy version you drafted."))
    version = policy_version_activate(version=recommendation.draft_version, actor=actor)
    recommendation.state = Recommendation.State.ACTIVATED
    recommendation.save(update_fields=["state"])
    audit_record(
        action=InsightEvents.RECOMMENDATION_ACTIVATED,
        actor=actor,
        obj=recommendation,
        data={"policy_version": version.number, "accepted_by": recommendation.decided_by_id},
    )
    return recommendation


@transaction.atomic
def recommendation_dismiss(*, recommendation_id: int, actor, note: str = "") -> Recommendation:
    if not user_has_role(actor, Role.ADMIN, Role.COMPLIANCE_OFFICER):
        raise Forbidden(_("Only compliance officers and administrators dismiss recommendations."))
    recommendation = _lock_recommendation(recommendation_id)
    if recommendation.state != Recommendation.State.OPEN:
        raise Conflict(_("Only an open recommendation can be dismissed."), code="not_open")
    recommendation.state = Recommendation.State.DISMISSED
    recommendation.decided_by, recommendation.decided_at, recommendation.note = actor, timezone.now(), note
    recommendation.save(update_fields=["state", "decided_by", "decided_at", "note"])
    audit_record(action=InsightEvents.RECOMMENDATION_DISMISSED, actor=actor, obj=recommendation, data={"note": note})
    return recommendation


def qa_assignments_sample(*, now=None) -> int:
    """Send the configured share of recent human verdicts to a blind second review.

    The draw is HMAC(sampling key, decision id), like post-action sampling: reproducible by an
    auditor, unpredictable to a reviewer, and the same on every run, so re-runs add nothing.
    """
    now = now or timezone.now()
    share = settings.INSIGHTS_QA_SHARE
    if share <= 0:
        return 0
    since = now - timedelta(days=settings.INSIGHTS_QA_LOOKBACK_DAYS)
    candidates = Decision.objects.filter(
        verdict__in=VERDICTS, signed_at__gte=since, signed_at__lte=now, qa_assignment__isnull=True
    ).values_list("id", flat=True)
    sampled = [pk for pk in candidates.iterator() if _qa_draw(pk) < share]
    created = 0
    for start in range(0, len(sampled), QA_BATCH):
        with transaction.atomic():
            # The decision rows are locked, so a concurrent qa_assign of one of them waits, then sees it taken.
            batch = list(
                Decision.objects.select_for_update().filter(pk__in=sampled[start : start + QA_BATCH]).order_by("pk")
            )
            taken = set(QaAssignment.objects.filter(decision__in=batch).values_list("decision_id", flat=True))
            drawn = [decision for decision in batch if decision.pk not in taken]
            created += len(_qa_assignments_create(drawn, sampled_by="rate", actor=None))
    return created


@transaction.atomic
def qa_assign(*, decision_id: int, actor, assigned_to=None) -> QaAssignment:
    """A compliance officer or admin sends one human decision to a blind second review."""
    if not user_has_role(actor, Role.ADMIN, Role.COMPLIANCE_OFFICER):
        raise Forbidden(_("Only compliance officers and administrators assign QA reviews."))
    decision = (
        Decision.objects.select_for_update()
        .select_related("proposal", "proposal__agent")
        .filter(pk=decision_id)
        .first()
    )
    if decision is None:
        raise InvalidInput(fields={"decision": [_("No such decision.")]})
    if decision.verdict not in VERDICTS:
        raise InvalidInput(fields={"decision": [_("An escalation is not a verdict to check.")]})
    if QaAssignment.objects.filter(decision=decision).exists():
        raise Conflict(_("This decision is already in QA."), code="already_assigned")
    if assigned_to is not None:
        _ensure_may_second_review(assigned_to, decision)
    (assignment,) = _qa_assignments_create([decision], sampled_by="manual", actor=actor, assigned_to=assigned_to)
    return assignment


def qa_review_record(*, assignment_id: int, reviewer, verdict: str, rationale: str, password: str) -> QaAssignment:
    """The senior's blind verdict, signed with their password; agreement is computed, never shown first."""
    signer = signature_verify(user=reviewer, password=password)
    if verdict not in QaAssignment.Verdict.values:
        raise InvalidInput(fields={"verdict": [_("Choose approve, modify or reject.")]})
    with transaction.atomic():
        assignment = (
            QaAssignment.objects.select_for_update()
            .select_related("decision", "proposal__agent")
            .filter(pk=assignment_id)
            .first()
        )
        if (
            assignment is None
            or assignment.assigned_to_id not in (None, signer.pk)
            or not queues_reviewable_by(signer).filter(pk=assignment.proposal.queue_id).exists()
        ):
            raise NotFound(_("No such QA assignment waiting for you."))
        _ensure_may_second_review(signer, assignment.decision)
        if assignment.state != QaAssignment.State.OPEN:
            raise Conflict(_("This QA review is already done."), code="already_reviewed")
        assignment.state = QaAssignment.State.DONE
        assignment.second_reviewer, assignment.second_verdict, assignment.rationale = signer, verdict, rationale
        assignment.agrees = verdict == assignment.decision.verdict
        assignment.signer_name = signer.get_full_name() or signer.get_username()
        assignment.signature_meaning = QA_SIGNATURE_MEANING
        assignment.reviewed_at = timezone.now()
        assignment.save()
        audit_record(
            action=InsightEvents.QA_REVIEWED,
            actor=signer,
            obj=assignment,
            data={
                "proposal_id": assignment.proposal_id,
                "decision_id": assignment.decision_id,
                "verdict": verdict,
                "rationale": rationale,
                "agrees": assignment.agrees,
                "signature": {"name": assignment.signer_name, "meaning": assignment.signature_meaning},
            },
        )
    return assignment


def _qa_assignments_create(
    decisions: list[Decision], *, sampled_by: str, actor, assigned_to=None
) -> list[QaAssignment]:
    """One insert and one chain append for all of them: the nightly draw writes about a hundred
    (111 over the 100k-decision benchmark: 0.18 s one by one, 0.06 s so)."""
    assignments = QaAssignment.objects.bulk_create(
        QaAssignment(
            decision=decision,
            proposal_id=decision.proposal_id,
            first_reviewer_id=decision.reviewer_id,
            assigned_to=assigned_to,
            sampled_by=sampled_by,
        )
        for decision in decisions
    )
    audit_record_many(
        events=(
            {
                "action": InsightEvents.QA_ASSIGNED,
                "actor": actor,
                "obj": assignment,
                "data": {
                    "proposal_id": assignment.proposal_id,
                    "decision_id": assignment.decision_id,
                    "sampled_by": sampled_by,
                    "draw": repr(_qa_draw(assignment.decision_id)),
                    "share": repr(settings.INSIGHTS_QA_SHARE),
                    "assigned_to": assigned_to.pk if assigned_to is not None else None,
                },
            }
            for assignment in assignments
        )
    )
    return assignments


def _ensure_may_second_review(user, decision: Decision) -> None:
    if not user_has_role(user, Role.SENIOR_REVIEWER):
        raise Forbidden(_("Only senior reviewers do QA reviews."))
    if decision.reviewer_id == user.pk:
        raise Forbidden(_("You may not check your own decision."))
    if decision.proposal.agent.owner_id == user.pk:
        raise Forbidden(_("You may not review an action of an agent you own."))


def _qa_draw(decision_id: int) -> float:
    return sampling_draw(key=f"{settings.SAMPLING_KEY}:qa", proposal_id=decision_id)


def _ensure_admin(actor) -> None:
    if not user_has_role(actor, Role.ADMIN):
        raise Forbidden(_("Only administrators change policies."))


def _lock_recommendation(recommendation_id: int) -> Recommendation:
    recommendation = Recommendation.objects.select_for_update().filter(pk=recommendation_id).first()
    if recommendation is None:
        raise NotFound(_("No such recommendation."))
    return recommendation


def _note_drafts_activated_elsewhere() -> None:
    """A draft may also be activated in the policies admin; the advice then counts as activated."""
    activated = Recommendation.objects.filter(
        state=Recommendation.State.ACCEPTED,
        draft_version__status__in=(PolicyVersion.Status.ACTIVE, PolicyVersion.Status.RETIRED),
        draft_version__activated_at__isnull=False,
    )
    ids = list(activated.values_list("id", flat=True))
    if ids and Recommendation.objects.filter(pk__in=ids, state=Recommendation.State.ACCEPTED).update(
        state=Recommendation.State.ACTIVATED
    ):
        audit_record(
            action=InsightEvents.RECOMMENDATION_ACTIVATED, data={"recommendations": ids, "through": "policies"}
        )


def _supersede_stale(active: PolicyVersion | None) -> None:
    """Open advice about an older version no longer applies; conditional update, one event."""
    stale = Recommendation.objects.filter(state=Recommendation.State.OPEN)
    if active is not None:
        stale = stale.exclude(policy_version=active)
    ids = list(stale.values_list("id", flat=True))
    if not ids:
        return
    updated = Recommendation.objects.filter(pk__in=ids, state=Recommendation.State.OPEN).update(
        state=Recommendation.State.DISMISSED, decided_at=timezone.now(), note="superseded by a newer policy version"
    )
    if updated:
        audit_record(action=InsightEvents.RECOMMENDATION_SUPERSEDED, data={"recommendations": ids})


def _fingerprint(candidate: dict, version: PolicyVersion) -> str:
    identity = {
        "kind": str(candidate["kind"]),
        "rule": candidate["rule_name"],
        "change": candidate["change"],
        "version": version.pk,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
