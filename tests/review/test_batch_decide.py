"""Batch review: one rationale and one signature; each proposal gets its own decision and event."""

import json

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, Proposal, SigningBatch, Status
from apps.proposals.services import proposal_claim, proposal_decide
from apps.review.services import proposals_decide_batch
from hitlplatform.errors import InvalidInput
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BATCH = reverse("review:batch")


def post_batch(client, proposals, *, verdict="approve", rationale="ok", password=PASSWORD, **options):
    """The queue's batch form, signed as "reviewer"."""
    body = {
        "proposals": [p.pk for p in proposals],
        "verdict": verdict,
        "rationale": rationale,
        "username": "reviewer",
        "password": password,
    }
    return client.post(BATCH, body, **options)


@pytest.fixture
def crm_changes(submit):
    return [submit(action_type="crm.update", payload={"n": n}) for n in range(3)]


def test_a_batch_of_three_gets_three_decisions_and_events(reviewer_web, crm_changes):
    # when
    response = post_batch(reviewer_web, crm_changes, rationale="all checked")
    # then
    assert response.status_code == 302
    assert set(Proposal.objects.filter(pk__in=[p.pk for p in crm_changes]).values_list("status", flat=True)) == {
        Status.APPROVED
    }
    assert Decision.objects.filter(rationale="all checked").count() == 3
    events = AuditEvent.objects.filter(action="decision.recorded").values_list("object_id", flat=True)
    assert sorted(events) == sorted(str(p.pk) for p in crm_changes)


def test_a_wrong_password_writes_nothing_and_keeps_what_was_typed(reviewer_web, crm_changes, world_state):
    before = world_state()

    response = post_batch(reviewer_web, crm_changes, verdict="reject", rationale="my batch reason", password="wrong")

    body = response.content.decode()
    assert response.status_code == 400 and "Wrong password." in body and "my batch reason" in body
    assert f'id="select-{crm_changes[0].pk}" aria-label="Select proposal #{crm_changes[0].pk}" checked' in body
    # the documented exception: the failed attempt itself is recorded (auth.signature_failed)
    assert world_state() == (before[0], before[1] + 1) and Decision.objects.count() == 0
    assert AuditEvent.objects.order_by("-seq").first().action == "auth.signature_failed"


def test_a_batch_must_share_action_type_and_rule(reviewer, crm_changes, refund):
    with pytest.raises(InvalidInput):
        proposals_decide_batch(
            proposal_ids=[crm_changes[0].pk, refund.pk],
            reviewer=reviewer,
            verdict="approve",
            rationale="ok",
            password=PASSWORD,
        )
    assert Decision.objects.count() == 0


def test_a_batch_cannot_modify_or_escalate(reviewer, crm_changes):
    with pytest.raises(InvalidInput):
        proposals_decide_batch(
            proposal_ids=[crm_changes[0].pk], reviewer=reviewer, verdict="escalate", rationale="ok", password=PASSWORD
        )


def test_a_failure_on_one_proposal_is_reported_and_the_others_are_decided(reviewer, second_reviewer, crm_changes):
    # given: someone else rejected the second one in the meantime
    proposal_decide(
        proposal_id=crm_changes[1].pk, reviewer=second_reviewer, verdict="reject", rationale="no", password=PASSWORD
    )
    # when
    outcomes = proposals_decide_batch(
        proposal_ids=[p.pk for p in crm_changes],
        reviewer=reviewer,
        verdict="approve",
        rationale="ok",
        password=PASSWORD,
    )
    # then
    assert [bool(outcome.decision) for outcome in outcomes] == [True, False, True]
    assert "already" in outcomes[1].error
    assert Decision.objects.filter(reviewer=reviewer).count() == 2


def test_the_page_reports_each_failure(reviewer_web, second_reviewer, crm_changes):
    proposal_decide(
        proposal_id=crm_changes[0].pk, reviewer=second_reviewer, verdict="reject", rationale="no", password=PASSWORD
    )

    response = post_batch(reviewer_web, crm_changes, follow=True)

    body = response.content.decode()
    assert "Signed 2 decisions." in body and f"#{crm_changes[0].pk}:" in body


def test_a_batch_without_rationale_is_refused(reviewer_web, crm_changes):
    response = post_batch(reviewer_web, crm_changes[:1], rationale="", follow=True)

    assert "A rationale is required." in response.content.decode()
    assert Decision.objects.count() == 0


def test_the_password_is_verified_once_per_batch_and_each_decision_records_its_batch(
    monkeypatch, reviewer, second_reviewer, submit
):
    # given 25 proposals, one of them claimed by another reviewer
    proposals = [submit(action_type="crm.update", payload={"n": n}) for n in range(25)]
    proposal_claim(proposal_id=proposals[7].pk, reviewer=second_reviewer)
    checks = []
    original = type(reviewer).check_password
    monkeypatch.setattr(
        type(reviewer), "check_password", lambda user, raw: checks.append(user.pk) or original(user, raw)
    )

    # when
    outcomes = proposals_decide_batch(
        proposal_ids=[p.pk for p in proposals],
        reviewer=reviewer,
        verdict="approve",
        rationale="All checked against the CRM.",
        password=PASSWORD,
    )

    # then: one verification; 24 decisions of one batch; the claimed one reported on its own
    assert checks == [reviewer.pk]
    batch = SigningBatch.objects.get()
    assert batch.signer == reviewer and batch.size == 25
    assert Decision.objects.filter(batch=batch).count() == 24
    failed = [outcome for outcome in outcomes if outcome.error]
    assert [outcome.proposal_id for outcome in failed] == [proposals[7].pk]
    assert "is working on this proposal" in failed[0].error
    assert Proposal.objects.get(pk=proposals[7].pk).status == Status.PENDING
    recorded = AuditEvent.objects.filter(action="decision.recorded")
    assert {json.loads(event.data_record.canonical_data)["batch"] for event in recorded} == {batch.pk}
    assert AuditEvent.objects.filter(action="signature.batch_signed", object_id=str(batch.pk)).count() == 1


def test_a_wrong_batch_password_writes_no_batch(reviewer, crm_changes, world_state):
    (proposals_before, head_before) = world_state()
    with pytest.raises(InvalidInput):
        proposals_decide_batch(
            proposal_ids=[p.pk for p in crm_changes], reviewer=reviewer, verdict="approve", rationale="ok", password="x"
        )
    # only the failed attempt is recorded (21 CFR 11.300(d)): no batch, no decision
    assert world_state() == (proposals_before, head_before + 1) and not SigningBatch.objects.exists()
    assert AuditEvent.objects.latest("seq").action == "auth.signature_failed"
    assert not Decision.objects.filter(proposal__in=crm_changes).exists()
