"""proposal_decide: four eyes, modifications, escalation, signatures, scope."""

import pytest

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, Status
from hitlplatform.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import UserFactory, decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund_needing_two(submit):
    return submit(blast_radius=5)


def test_two_distinct_approvals_approve_the_proposal(refund_needing_two, reviewer, second_reviewer):
    decide(refund_needing_two, reviewer)
    refund_needing_two.refresh_from_db()
    assert refund_needing_two.status == Status.PENDING

    decide(refund_needing_two, second_reviewer)

    refund_needing_two.refresh_from_db()
    assert refund_needing_two.status == Status.APPROVED
    assert refund_needing_two.approved_by == "human"
    assert refund_needing_two.final_payload == refund_needing_two.payload
    assert refund_needing_two.decided_at is not None
    assert AuditEvent.objects.filter(action="decision.recorded").count() == 2
    assert AuditEvent.objects.filter(action="proposal.decided").count() == 1


def test_second_approval_by_same_reviewer_is_refused(refund_needing_two, reviewer):
    decide(refund_needing_two, reviewer)
    with pytest.raises(Conflict):
        decide(refund_needing_two, reviewer)
    assert Decision.objects.count() == 1


def test_a_modification_starts_the_count_again(refund_needing_two, reviewer, second_reviewer, senior_reviewer):
    decide(refund_needing_two, reviewer)
    decide(refund_needing_two, second_reviewer, verdict="modify", payload={"order": "A-1", "amount": "250.00"})

    refund_needing_two.refresh_from_db()
    assert refund_needing_two.status == Status.PENDING  # the first approval was of the old version
    decide(refund_needing_two, reviewer)

    refund_needing_two.refresh_from_db()
    assert refund_needing_two.status == Status.APPROVED
    assert refund_needing_two.final_payload == {"order": "A-1", "amount": "250.00"}
    assert refund_needing_two.modified is True


def test_any_reject_ends_it(refund_needing_two, reviewer, second_reviewer):
    decide(refund_needing_two, reviewer)
    decide(refund_needing_two, second_reviewer, verdict="reject", rationale="fraud pattern")
    refund_needing_two.refresh_from_db()
    assert refund_needing_two.status == Status.REJECTED
    assert refund_needing_two.final_payload is None


def test_a_final_proposal_cannot_be_decided_again(refund_needing_two, reviewer, second_reviewer):
    decide(refund_needing_two, reviewer, verdict="reject")
    with pytest.raises(Conflict):
        decide(refund_needing_two, second_reviewer)


def test_a_stale_payload_version_is_a_conflict(refund_needing_two, reviewer, second_reviewer):
    seen = refund_needing_two.payload_version
    decide(refund_needing_two, reviewer, verdict="modify", payload={"order": "A-1", "amount": "1.00"})
    with pytest.raises(Conflict):
        decide(refund_needing_two, second_reviewer, payload_version_seen=seen)


def test_a_wrong_password_writes_nothing(refund_needing_two, reviewer):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        decide(refund_needing_two, reviewer, password="wrong")
    assert Decision.objects.count() == 0
    # the documented exception: the failed attempt itself is recorded (auth.signature_failed)
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)[events:]) == [
        "auth.signature_failed"
    ]


def test_the_owner_of_the_agent_may_not_decide(refund_needing_two, agent_owner):
    with pytest.raises(Forbidden):
        decide(refund_needing_two, agent_owner)


def test_a_reviewer_without_the_queue_gets_not_found(refund_needing_two, outsider):
    with pytest.raises(NotFound):
        decide(refund_needing_two, outsider)


def test_a_compliance_officer_may_look_but_not_decide(refund_needing_two, compliance_officer):
    with pytest.raises(Forbidden):
        decide(refund_needing_two, compliance_officer)


def test_the_rule_can_require_an_authorization_level(submit, reviewer, senior_reviewer):
    contract = submit(action_type="contracts.amend", payload={"contract": "K-9"})
    with pytest.raises(Forbidden):
        decide(contract, reviewer)  # level 2 < 3
    decide(contract, senior_reviewer)
    contract.refresh_from_db()
    assert contract.status == Status.APPROVED


def test_an_expired_licence_may_not_decide_where_the_rule_asks(submit):
    import datetime

    expired = UserFactory(username="expired", role="senior_reviewer", queues=["finance"], profile__level=5)
    expired.reviewer_profile.licence_expires_on = datetime.date(2020, 1, 1)
    expired.reviewer_profile.save()
    contract = submit(action_type="contracts.amend", payload={"contract": "K-9"})
    with pytest.raises(Forbidden, match="licence"):
        decide(contract, expired)


def test_escalation_moves_the_proposal_to_the_next_tier(refund_needing_two, reviewer, senior_reviewer):
    decide(refund_needing_two, reviewer, verdict="escalate", rationale="above my limit")

    refund_needing_two.refresh_from_db()
    assert refund_needing_two.escalation_level == 1
    assert refund_needing_two.queue.slug == "finance-senior"
    assert refund_needing_two.status == Status.PENDING
    assert AuditEvent.objects.filter(action="proposal.escalated").exists()


def test_escalating_past_the_last_tier_is_a_conflict(submit, reviewer, senior_reviewer):
    crm = submit(action_type="crm.update", payload={"customer": "C-1"})
    decide(crm, reviewer, verdict="escalate", rationale="needs a senior")
    with pytest.raises(Conflict):
        decide(crm, senior_reviewer, verdict="escalate", rationale="and further")


def test_each_decision_records_the_signature_manifestation(refund_needing_two, reviewer):
    decision = decide(refund_needing_two, reviewer)
    assert decision.signer_name == reviewer.get_full_name()
    assert decision.signature_meaning == "approved"
    assert decision.payload_version == refund_needing_two.payload_version
    event = AuditEvent.objects.get(action="decision.recorded")
    assert event.actor_type == "user" and event.actor_id == str(reviewer.pk)
