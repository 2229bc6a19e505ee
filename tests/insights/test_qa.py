"""Reviewer QA: a share of human decisions goes to a blind second review by a senior reviewer."""

import json

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.insights.models import QaAssignment
from apps.insights.selectors import qa_agreement, qa_assignments_open_for, window_for
from apps.insights.services import _qa_draw, qa_assign, qa_assignments_sample, qa_review_record
from hitlplatform.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(make_proposal, make_decision, reviewer):
    def make(verdict="approve", action_type=None, by=None):
        proposal = make_proposal(
            status="rejected" if verdict == "reject" else "approved",
            **({"action_type": action_type} if action_type else {}),
        )
        return make_decision(proposal, by or reviewer, verdict)

    return make


def review(assignment, reviewer, verdict="approve", password="correct-horse-battery-staple"):
    return qa_review_record(
        assignment_id=assignment.pk, reviewer=reviewer, verdict=verdict, rationale="second look", password=password
    )


def test_the_configured_share_of_recent_verdicts_is_sampled(settings, decided, make_decision, reviewer, now):
    settings.INSIGHTS_QA_SHARE = 0.5
    decisions = [decided() for _ in range(40)]
    escalation = make_decision(decisions[0].proposal, reviewer, "escalate")
    expected = {d.pk for d in decisions if _qa_draw(d.pk) < 0.5}

    assert qa_assignments_sample(now=now) == len(expected)
    assert qa_assignments_sample(now=now) == 0  # the draw is deterministic: a re-run adds nothing

    assert set(QaAssignment.objects.values_list("decision_id", flat=True)) == expected
    assert not QaAssignment.objects.filter(decision=escalation).exists()
    assert 0 < len(expected) < 40
    events = AuditEvent.objects.filter(action="qa.assigned").select_related("data_record")
    recorded = [(int(event.object_id), json.loads(event.data_record.canonical_data)) for event in events]
    assignments = dict(QaAssignment.objects.values_list("pk", "decision_id"))
    assert sorted((assignment, data["decision_id"]) for assignment, data in recorded) == sorted(assignments.items())
    assert {data["sampled_by"] for _assignment, data in recorded} == {"rate"}


def test_no_share_no_sample(settings, decided, now):
    settings.INSIGHTS_QA_SHARE = 0.0
    decided()

    assert qa_assignments_sample(now=now) == 0


def test_a_senior_records_a_blind_verdict_and_agreement_follows(decided, compliance_officer, senior_reviewer):
    assignment = qa_assign(decision_id=decided("approve").pk, actor=compliance_officer)
    assert list(qa_assignments_open_for(senior_reviewer)) == [assignment]

    done = review(assignment, senior_reviewer, "reject")

    assert (done.state, done.second_verdict, done.agrees) == ("done", "reject", False)
    assert done.signature_meaning == "reviewed (quality assurance)"
    assert list(qa_assignments_open_for(senior_reviewer)) == []
    event = AuditEvent.objects.get(action="qa.reviewed")
    assert event.actor_id == str(senior_reviewer.pk)


def test_the_signature_needs_the_password(decided, compliance_officer, senior_reviewer):
    assignment = qa_assign(decision_id=decided().pk, actor=compliance_officer)

    with pytest.raises(InvalidInput):
        review(assignment, senior_reviewer, password="wrong")
    assignment.refresh_from_db()
    assert assignment.state == "open"


def test_only_another_senior_reviews(decided, compliance_officer, reviewer, senior_reviewer, agent_owner):
    own = qa_assign(decision_id=decided(by=senior_reviewer).pk, actor=compliance_officer)
    assignment = qa_assign(decision_id=decided().pk, actor=compliance_officer)

    with pytest.raises(Forbidden):
        review(assignment, reviewer)  # not a senior
    with pytest.raises(Forbidden):
        review(own, senior_reviewer)  # their own decision
    agent_owner.groups.add(*senior_reviewer.groups.all())
    agent_owner._hitl_roles = None
    with pytest.raises(Forbidden):
        review(assignment, agent_owner)  # owns the agent
    review(assignment, senior_reviewer)
    with pytest.raises(Conflict):
        review(assignment, senior_reviewer)


def test_an_assignment_to_one_senior_is_not_open_to_another(decided, compliance_officer, senior_reviewer):
    other_senior = UserFactory(username="other_senior", role="senior_reviewer", queues=["finance"])
    assignment = qa_assign(decision_id=decided().pk, actor=compliance_officer, assigned_to=other_senior)

    assert list(qa_assignments_open_for(senior_reviewer)) == []
    with pytest.raises(NotFound):
        review(assignment, senior_reviewer)
    assert review(assignment, other_senior).agrees is True


def test_a_senior_without_the_queue_neither_sees_nor_signs_its_qa(decided, compliance_officer, world_state):
    senior_elsewhere = UserFactory(username="senior_elsewhere", role="senior_reviewer", queues=["support"])
    assignment = qa_assign(decision_id=decided().pk, actor=compliance_officer)  # a finance proposal
    client = Client()
    client.force_login(senior_elsewhere)
    before = world_state()

    assert list(qa_assignments_open_for(senior_elsewhere)) == []
    with pytest.raises(NotFound):
        review(assignment, senior_elsewhere)
    assert client.get(f"/insights/qa/{assignment.pk}/").status_code == 404
    assert world_state() == before


def test_assigning_is_for_compliance_and_admins_once_per_decision(
    decided, make_decision, reviewer, compliance_officer, admin
):
    decision = decided()

    with pytest.raises(Forbidden):
        qa_assign(decision_id=decision.pk, actor=reviewer)
    qa_assign(decision_id=decision.pk, actor=admin)
    with pytest.raises(Conflict):
        qa_assign(decision_id=decision.pk, actor=compliance_officer)
    with pytest.raises(InvalidInput):
        qa_assign(decision_id=make_decision(decision.proposal, reviewer, "escalate").pk, actor=admin)


def test_agreement_per_reviewer_and_per_action_type(decided, second_reviewer, compliance_officer, senior_reviewer, now):
    cases = [
        ("approve", "payments.refund", None, "approve"),
        ("approve", "payments.refund", None, "reject"),
        ("reject", "crm.update", None, "reject"),
        ("approve", "crm.update", second_reviewer, "approve"),
    ]
    for first, action_type, by, second in cases:
        assignment = qa_assign(decision_id=decided(first, action_type, by).pk, actor=compliance_officer)
        review(assignment, senior_reviewer, second)
    qa_assign(decision_id=decided().pk, actor=compliance_officer)  # still open: not counted

    agreement = qa_agreement(window=window_for(days=30, now=now))

    assert agreement["by_reviewer"] == [
        {"reviewer": "reviewer", "reviews": 3, "agreed": 2, "agreement_rate": pytest.approx(2 / 3)},
        {"reviewer": "second_reviewer", "reviews": 1, "agreed": 1, "agreement_rate": 1.0},
    ]
    assert agreement["by_action_type"] == [
        {"action_type": "crm.update", "reviews": 2, "agreed": 2, "agreement_rate": 1.0},
        {"action_type": "payments.refund", "reviews": 2, "agreed": 1, "agreement_rate": 0.5},
    ]
