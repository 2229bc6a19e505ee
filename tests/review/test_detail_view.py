"""The detail page and its decision panel: full context, e-signatures, inline errors."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, Status
from apps.proposals.services import proposal_decide
from tests.factories import PASSWORD
from tests.review.conftest import payload_fields, signed_post

pytestmark = pytest.mark.django_db


def detail_url(proposal):
    return reverse("review:detail", args=[proposal.pk])


def audit_head():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


def test_detail_shows_the_full_context_and_records_the_view(reviewer_web, reviewer, crm_change):
    # when
    response = reviewer_web.get(detail_url(crm_change))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    for text in [
        "Update the e-mail of C-7",
        "Damaged on arrival.",
        "P-1",
        "new@example.com",
        "&quot;vip&quot;",
        "record-changes",
        "policy version 1",
        "Compliance exposure",
        "500 EUR",
        "Raw JSON",
    ]:
        assert text in body, text
    viewed = AuditEvent.objects.get(action="proposal.viewed")
    assert viewed.object_id == str(crm_change.pk) and viewed.actor_id == str(reviewer.pk)


def test_detail_shows_prior_decisions_with_signatures_and_the_agents_record(
    web_client_for, reviewer, second_reviewer, refund, submit
):
    # given: one earlier refund rejected, and a first approval on this one
    earlier = submit(blast_radius=5, payload={"order": "A-0", "amount": "1.00"})
    proposal_decide(
        proposal_id=earlier.pk, reviewer=reviewer, verdict="reject", rationale="no evidence", password=PASSWORD
    )
    proposal_decide(
        proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="photo checked", password=PASSWORD
    )
    # when
    response = web_client_for(second_reviewer).get(detail_url(refund))
    # then
    body = response.content.decode()
    assert "photo checked" in body and "approved" in body and reviewer.get_full_name() in body
    assert response.context["agent_record"]["rejection_percent"] == 100
    assert [other.pk for other in response.context["similar"]] == [earlier.pk]
    assert "1/2 approvals" in body


def test_an_outsider_gets_404_and_no_view_is_recorded(web_client_for, outsider, refund):
    response = web_client_for(outsider).get(detail_url(refund))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="proposal.viewed").exists()


def test_a_compliance_officer_sees_the_proposal_without_a_decision_panel(web_client_for, compliance_officer, refund):
    response = web_client_for(compliance_officer).get(detail_url(refund))

    assert response.status_code == 200
    assert response.context["form"] is None
    assert 'id="decision-form"' not in response.content.decode()


def test_approving_signs_a_decision_and_opens_the_next_proposal(reviewer_web, crm_change, refund):
    # when
    response = signed_post(
        reviewer_web, detail_url(crm_change), {"verdict": "approve", "rationale": "call recorded"}, username="reviewer"
    )
    # then
    assert response.status_code == 302 and response["Location"] == detail_url(refund)
    crm_change.refresh_from_db()
    assert crm_change.status == Status.APPROVED
    decision = Decision.objects.get(proposal=crm_change)
    assert decision.signature_meaning == "approved" and decision.rationale == "call recorded"


def test_after_the_last_proposal_the_queue_opens(reviewer_web, crm_change):
    response = signed_post(
        reviewer_web, detail_url(crm_change), {"verdict": "approve", "rationale": "ok"}, username="reviewer"
    )

    assert response["Location"] == reverse("review:queue")


def test_the_first_signature_asks_for_the_username_later_ones_only_the_password(reviewer_web, crm_change, submit):
    # given
    second = submit(action_type="crm.update", payload={"n": 2})
    first_page = reviewer_web.get(detail_url(crm_change))
    # when: the first signature without a username is refused
    refused = signed_post(reviewer_web, detail_url(crm_change), {"verdict": "approve", "rationale": "ok"})
    signed_post(reviewer_web, detail_url(crm_change), {"verdict": "approve", "rationale": "ok"}, username="reviewer")
    second_page = reviewer_web.get(detail_url(second))
    later = signed_post(reviewer_web, detail_url(second), {"verdict": "approve", "rationale": "ok"})
    # then
    assert "username" in first_page.context["form"].fields
    assert refused.status_code == 400 and "username" in refused.context["form"].errors
    assert "username" not in second_page.context["form"].fields
    assert later.status_code == 302
    assert Decision.objects.count() == 2


def test_a_new_login_asks_for_the_username_again(client, reviewer, crm_change, submit):
    # given: a signature in one session
    client.post(reverse("login"), {"username": "reviewer", "password": PASSWORD})
    signed_post(client, detail_url(crm_change), {"verdict": "approve", "rationale": "ok"}, username="reviewer")
    # when: logging out and in again
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "reviewer", "password": PASSWORD})
    second = submit(action_type="crm.update", payload={"n": 2})
    page = client.get(detail_url(second))
    # then
    assert "username" in page.context["form"].fields


def test_signing_with_another_users_name_is_refused(reviewer_web, second_reviewer, crm_change, world_state):
    before = world_state()

    response = signed_post(
        reviewer_web, detail_url(crm_change), {"verdict": "approve", "rationale": "ok"}, username="second_reviewer"
    )

    assert response.status_code == 400
    assert "Wrong username." in response.content.decode()
    # the documented exception: the failed attempt itself is recorded (auth.signature_failed)
    assert world_state() == (before[0], before[1] + 1) and Decision.objects.count() == 0
    assert AuditEvent.objects.order_by("-seq").first().action == "auth.signature_failed"


def test_reject_without_rationale_shows_an_error_and_writes_nothing(reviewer_web, crm_change):
    head = audit_head()

    response = signed_post(
        reviewer_web, detail_url(crm_change), {"verdict": "reject", "rationale": " "}, username="reviewer"
    )

    assert response.status_code == 400
    assert "A rationale is required." in response.content.decode()
    assert audit_head() == head and Decision.objects.count() == 0


def test_a_wrong_password_keeps_what_was_typed_and_writes_nothing(reviewer_web, crm_change):
    head = audit_head()

    response = signed_post(
        reviewer_web,
        detail_url(crm_change),
        {"verdict": "approve", "rationale": "my careful reason"},
        username="reviewer",
        password="wrong",
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Wrong password." in body and "my careful reason" in body
    # the documented exception: the failed attempt itself is recorded (auth.signature_failed)
    assert audit_head() == head + 1 and Decision.objects.count() == 0
    assert AuditEvent.objects.get(seq=head + 1).action == "auth.signature_failed"


def test_modify_edits_the_payload_field_by_field(reviewer_web, crm_change):
    # when
    response = signed_post(
        reviewer_web,
        detail_url(crm_change),
        {
            "verdict": "modify",
            "rationale": "typo",
            **payload_fields(
                reviewer_web, crm_change, customer="C-7", email="fixed@example.com", tags='["vip", "new"]'
            ),
        },
        username="reviewer",
    )
    # then
    assert response.status_code == 302
    crm_change.refresh_from_db()
    assert crm_change.status == Status.APPROVED
    assert crm_change.final_payload == {"customer": "C-7", "email": "fixed@example.com", "tags": ["vip", "new"]}


def test_modify_with_broken_json_shows_the_error_next_to_the_field(reviewer_web, crm_change):
    response = signed_post(
        reviewer_web,
        detail_url(crm_change),
        {
            "verdict": "modify",
            "rationale": "typo",
            **payload_fields(reviewer_web, crm_change, customer="C-7", email="x@example.com", tags="[vip"),
        },
        username="reviewer",
    )

    assert response.status_code == 400
    tags_field = next(name for name, key, _ in response.context["form"].payload_fields if key == "tags")
    assert response.context["form"].errors[tags_field] == ["Not valid JSON."]
    assert Decision.objects.count() == 0


def test_modify_without_a_change_is_refused_inline(reviewer_web, crm_change):
    response = signed_post(
        reviewer_web,
        detail_url(crm_change),
        {
            "verdict": "modify",
            "rationale": "same",
            **payload_fields(reviewer_web, crm_change, customer="C-7", email="new@example.com", tags='["vip"]'),
        },
        username="reviewer",
    )

    assert response.status_code == 400
    assert "The payload is unchanged; approve it instead." in response.content.decode()


def test_the_diff_preview_lists_the_changed_fields(reviewer_web, crm_change):
    response = reviewer_web.post(
        reverse("review:diff", args=[crm_change.pk]),
        payload_fields(reviewer_web, crm_change, customer="C-7", email="fixed@example.com", tags='["vip"]'),
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert "fixed@example.com" in body and "new@example.com" in body
    assert "<code>email</code>" in body and "<code>customer</code>" not in body


def test_a_stale_payload_version_is_a_conflict_shown_inline(reviewer_web, crm_change):
    response = signed_post(
        reviewer_web,
        detail_url(crm_change),
        {"verdict": "approve", "rationale": "ok", "payload_version_seen": "0" * 64},
        username="reviewer",
    )

    assert response.status_code == 400
    assert "The payload changed since you opened it" in response.content.decode()
    assert Decision.objects.count() == 0


def test_escalate_hands_the_proposal_to_the_next_tier(reviewer_web, refund):
    response = signed_post(
        reviewer_web, detail_url(refund), {"verdict": "escalate", "rationale": "too large"}, username="reviewer"
    )

    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.escalation_level == 1 and refund.queue.slug == "finance-senior"


def test_deciding_a_final_proposal_is_refused(reviewer_web, crm_change, reviewer):
    proposal_decide(proposal_id=crm_change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=PASSWORD)

    page = reviewer_web.get(detail_url(crm_change))
    response = signed_post(
        reviewer_web, detail_url(crm_change), {"verdict": "approve", "rationale": "ok"}, username="reviewer"
    )

    assert page.context["form"] is None and "This proposal is Rejected." in page.content.decode()
    assert response.status_code == 302 and Decision.objects.count() == 1


def test_a_proposal_approved_on_expiry_says_so(client, submit, reviewer):
    from apps.proposals.models import Proposal

    proposal = submit(blast_radius=5)
    Proposal.objects.filter(pk=proposal.pk).update(status="approved", approved_by="policy", approved_on_expiry=True)
    client.force_login(reviewer)
    page = client.get(f"/review/{proposal.pk}/").content.decode()
    assert "approved by policy on expiry" in page
