"""recommendations_compute: every rule with a known answer, and never a change without two admins."""

from datetime import timedelta

import pytest

from apps.audit.models import AuditEvent
from apps.insights.models import Recommendation
from apps.insights.services import (
    recommendation_accept,
    recommendation_activate,
    recommendation_dismiss,
    recommendations_compute,
)
from apps.insights.stats import wilson_lower_bound
from apps.policies.models import PolicyRule, PolicyVersion
from apps.policies.services import policy_load_yaml, policy_version_activate
from hitlplatform.errors import Conflict, Forbidden
from tests.conftest import TEST_POLICY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_samples(settings):
    # 40 approvals out of 40 have a Wilson lower bound of 0.912: above a 0.9 bar.
    settings.INSIGHTS_MIN_SAMPLE = 30
    settings.INSIGHTS_RELAX_LOWER_BOUND = 0.9
    settings.INSIGHTS_TIGHTEN_MIN_SAMPLE = 20


@pytest.fixture
def second_admin(db):
    return UserFactory(username="second_admin", role="admin", is_staff=True)


@pytest.fixture
def contracts_approved(make_proposal):
    """40 contract changes (pre-approval), all approved as proposed."""

    def make(approved=40, rejected=0):
        for _ in range(approved):
            make_proposal("contract-changes")
        for _ in range(rejected):
            make_proposal("contract-changes", status="rejected")

    return make


def _kinds(recommendations):
    return {(rec.kind, rec.rule_name) for rec in recommendations}


def test_wilson_lower_bound_known_values():
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(50, 100) == pytest.approx(0.4038, abs=1e-4)
    assert wilson_lower_bound(40, 40) == pytest.approx(40 / (40 + 1.959963984540054**2), abs=1e-9)
    assert wilson_lower_bound(400, 400) > 0.99 > wilson_lower_bound(300, 300)


def test_relax_to_post_review_after_enough_approvals(policy, contracts_approved, now):
    contracts_approved(40)

    (recommendation,) = recommendations_compute(now=now)

    assert recommendation.kind == "relax_to_post_review"
    assert recommendation.rule_name == "contract-changes"
    assert recommendation.change == {"mode": "post_review", "sample_rate": 0.1}
    assert recommendation.evidence["human_verdicts"] == 40
    assert recommendation.evidence["approvals"] == 40
    assert recommendation.evidence["wilson_lower_bound"] == pytest.approx(0.9124, abs=1e-4)
    assert recommendation.state == "open"
    assert recommendation.policy_version == policy
    assert AuditEvent.objects.filter(action="recommendation.created", object_id=str(recommendation.pk)).exists()


def test_no_relaxing_when_the_lower_bound_is_below_the_bar(policy, contracts_approved, now):
    contracts_approved(39, rejected=1)  # 97.5% approved, lower bound 0.87

    assert recommendations_compute(now=now) == []


def test_no_relaxing_below_the_minimum_sample(policy, contracts_approved, settings, now):
    settings.INSIGHTS_RELAX_LOWER_BOUND = 0.5
    contracts_approved(29)

    assert recommendations_compute(now=now) == []


def test_modified_approvals_do_not_count_as_approvals(policy, make_proposal, now):
    for _ in range(40):
        make_proposal("contract-changes", revised_payload={"changed": True})

    assert recommendations_compute(now=now) == []


def test_lower_min_confidence_where_gated_proposals_are_approved(policy, make_proposal, now):
    # small-refunds is autonomous from 0.9; below it, proposals wait for humans, who approve them.
    for _ in range(40):
        make_proposal("small-refunds", mode="pre_approval", confidence=0.85)

    (recommendation,) = recommendations_compute(now=now)

    assert recommendation.kind == "lower_min_confidence"
    assert recommendation.rule_name == "small-refunds"
    assert recommendation.change == {"min_confidence": 0.8}
    assert recommendation.evidence["confidence_band"] == [0.8, 0.9]
    assert recommendation.evidence["human_verdicts"] == 40


def test_lower_min_confidence_goes_down_only_through_safe_deciles(policy, make_proposal, now):
    for _ in range(40):
        make_proposal("small-refunds", mode="pre_approval", confidence=0.85)
    for _ in range(36):
        make_proposal("small-refunds", mode="pre_approval", confidence=0.75)
    for _ in range(4):
        make_proposal("small-refunds", mode="pre_approval", status="rejected", confidence=0.75)
    for _ in range(40):
        make_proposal("small-refunds", mode="pre_approval", confidence=0.65)  # safe, but below an unsafe decile

    (recommendation,) = recommendations_compute(now=now)

    assert recommendation.change == {"min_confidence": 0.8}


def test_raise_the_sample_rate_when_the_flag_rate_rises(policy, make_proposal, make_post_review, now):
    for number in range(20):
        make_post_review(make_proposal("unsampled-notes"), "confirmed", reviewed_ago=timedelta(days=30))
        recent = make_proposal("unsampled-notes")
        make_post_review(recent, "flagged" if number < 6 else "confirmed", reviewed_ago=timedelta(days=2))

    (recommendation,) = recommendations_compute(now=now)

    assert recommendation.kind == "raise_sample_rate"
    assert recommendation.rule_name == "unsampled-notes"
    assert recommendation.change == {"sample_rate": 0.1}
    assert (recommendation.evidence["recent_flagged"], recommendation.evidence["recent_reviewed"]) == (6, 20)
    assert recommendation.evidence["earlier_flag_rate"] == 0.0
    assert recommendation.evidence["recent_wilson_lower_bound"] == pytest.approx(wilson_lower_bound(6, 20))


def test_no_tightening_when_the_flag_rate_fell(policy, make_proposal, make_post_review, now):
    for number in range(20):
        make_post_review(
            make_proposal("unsampled-notes"), "flagged" if number < 4 else "confirmed", reviewed_ago=timedelta(days=30)
        )
        make_post_review(
            make_proposal("unsampled-notes"), "flagged" if number < 1 else "confirmed", reviewed_ago=timedelta(days=2)
        )

    assert recommendations_compute(now=now) == []


def test_back_to_pre_approval_after_a_flagged_irreversible_action(policy, make_proposal, make_post_review, now):
    flagged = make_proposal("support-replies", irreversible=True)
    make_post_review(flagged, "flagged", reviewed_ago=timedelta(minutes=1), correction={"text": "sorry"})
    make_post_review(make_proposal("support-replies"), "flagged", reviewed_ago=timedelta(minutes=1))  # reversible

    (recommendation,) = recommendations_compute(now=now)

    assert recommendation.kind == "back_to_pre_approval"
    assert recommendation.rule_name == "support-replies"
    assert recommendation.change == {"mode": "pre_approval"}
    assert recommendation.evidence["proposal_ids"] == [flagged.pk]
    assert recommendation.evidence["flagged_irreversible"] == 1


def test_a_flag_from_before_the_active_version_does_not_tighten_it(policy, make_proposal, make_post_review, now):
    make_post_review(make_proposal("support-replies", irreversible=True), "flagged", reviewed_ago=timedelta(days=1))

    assert recommendations_compute(now=now) == []


def test_the_same_advice_is_made_once_per_version_even_when_dismissed(
    policy, contracts_approved, compliance_officer, now
):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)
    recommendation_dismiss(recommendation_id=recommendation.pk, actor=compliance_officer, note="not yet")

    assert recommendations_compute(now=now) == []
    assert Recommendation.objects.count() == 1


def test_accepting_drafts_a_version_and_changes_nothing_active(policy, contracts_approved, admin, now):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)

    recommendation = recommendation_accept(recommendation_id=recommendation.pk, actor=admin, note="earned it")

    draft = recommendation.draft_version
    assert draft.status == PolicyVersion.Status.DRAFT
    assert draft.created_by == admin
    assert PolicyVersion.objects.get(status="active") == policy
    changed = draft.rules.get(name="contract-changes")
    assert (changed.mode, changed.sample_rate) == ("post_review", 0.1)
    for rule in policy.rules.exclude(name="contract-changes"):
        copy = draft.rules.get(name=rule.name)
        assert (copy.priority, copy.mode, copy.sla, copy.escalation, copy.when, copy.min_confidence) == (
            rule.priority,
            rule.mode,
            rule.sla,
            rule.escalation,
            rule.when,
            rule.min_confidence,
        )
    assert recommendation.state == "accepted"
    assert AuditEvent.objects.filter(action="recommendation.accepted", actor_id=str(admin.pk)).exists()
    assert AuditEvent.objects.filter(action="policy.drafted", object_id=str(draft.pk)).exists()


def test_no_recommendation_changes_a_policy_without_two_different_admins(
    policy, contracts_approved, admin, second_admin, compliance_officer, reviewer, now, staffed
):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)
    active_rule = PolicyRule.objects.get(version=policy, name="contract-changes")

    # nobody but an admin accepts
    for somebody in (compliance_officer, reviewer):
        with pytest.raises(Forbidden):
            recommendation_accept(recommendation_id=recommendation.pk, actor=somebody)
    recommendation = recommendation_accept(recommendation_id=recommendation.pk, actor=admin)
    # the accepting admin cannot activate the draft, neither here nor through the policies app
    with pytest.raises(Forbidden):
        recommendation_activate(recommendation_id=recommendation.pk, actor=admin)
    with pytest.raises(Forbidden):
        policy_version_activate(version=recommendation.draft_version, actor=admin)
    with pytest.raises(Forbidden):
        recommendation_activate(recommendation_id=recommendation.pk, actor=compliance_officer)
    assert PolicyVersion.objects.get(status="active") == policy
    assert active_rule.mode == "pre_approval"

    recommendation_activate(recommendation_id=recommendation.pk, actor=second_admin)

    active = PolicyVersion.objects.get(status="active")
    assert active == recommendation.draft_version
    assert (active.created_by, active.activated_by) == (admin, second_admin)
    assert active.rules.get(name="contract-changes").mode == "post_review"
    recommendation.refresh_from_db()
    assert recommendation.state == "activated"
    assert AuditEvent.objects.filter(action="recommendation.activated", actor_id=str(second_admin.pk)).exists()
    assert AuditEvent.objects.filter(action="policy.changed", actor_id=str(second_admin.pk)).exists()


def test_recommendations_are_refused_twice(policy, contracts_approved, admin, compliance_officer, now):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)
    recommendation_accept(recommendation_id=recommendation.pk, actor=admin)

    with pytest.raises(Conflict):
        recommendation_accept(recommendation_id=recommendation.pk, actor=admin)
    with pytest.raises(Conflict):
        recommendation_dismiss(recommendation_id=recommendation.pk, actor=compliance_officer)


def test_advice_about_an_older_version_is_stale(policy, contracts_approved, admin, now):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)
    policy_load_yaml(text=TEST_POLICY, comment="someone changed it meanwhile", allow_unstaffed=True)

    with pytest.raises(Conflict):
        recommendation_accept(recommendation_id=recommendation.pk, actor=admin)
    recommendations_compute(now=now)
    recommendation.refresh_from_db()
    assert recommendation.state == "dismissed"
    assert AuditEvent.objects.filter(action="recommendation.superseded").exists()


def test_dismissing_needs_a_compliance_officer_or_admin(policy, contracts_approved, reviewer, compliance_officer, now):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)

    with pytest.raises(Forbidden):
        recommendation_dismiss(recommendation_id=recommendation.pk, actor=reviewer)
    recommendation = recommendation_dismiss(
        recommendation_id=recommendation.pk, actor=compliance_officer, note="seasonal"
    )

    assert (recommendation.state, recommendation.note, recommendation.decided_by) == (
        "dismissed",
        "seasonal",
        compliance_officer,
    )
    assert AuditEvent.objects.filter(action="recommendation.dismissed", object_id=str(recommendation.pk)).exists()


def test_a_draft_activated_in_the_policies_admin_counts_as_activated(
    policy, contracts_approved, admin, second_admin, now, staffed
):
    contracts_approved(40)
    (recommendation,) = recommendations_compute(now=now)
    recommendation = recommendation_accept(recommendation_id=recommendation.pk, actor=admin)
    policy_version_activate(version=recommendation.draft_version, actor=second_admin)

    recommendations_compute(now=now)

    recommendation.refresh_from_db()
    assert recommendation.state == "activated"
