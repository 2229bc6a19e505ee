"""The reviewer workflow in the web app: redirect with instructions, the revision thread, claims
shown in the queue and on the detail page, and the reassign form of senior reviewers."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, Proposal, Status
from apps.proposals.services import proposal_claim
from tests.conftest import redirected_and_revised
from tests.review.conftest import signed_post

pytestmark = pytest.mark.django_db


def detail(proposal):
    return reverse("review:detail", args=[proposal.pk])


def test_the_decision_panel_offers_request_changes_with_its_key(reviewer_web, crm_change):
    page = reviewer_web.get(detail(crm_change)).content.decode()
    assert 'value="request_changes"' in page and "<kbd>c</kbd>" in page
    assert 'name="instructions"' in page and 'data-show-for="request_changes"' in page


def test_a_reviewer_requests_changes_with_instructions(reviewer_web, crm_change):
    response = signed_post(
        reviewer_web,
        detail(crm_change),
        {"verdict": "request_changes", "rationale": "Wrong customer.", "instructions": "Use customer C-8."},
        username="reviewer",
    )
    assert response.status_code == 302
    crm_change.refresh_from_db()
    assert crm_change.status == Status.CHANGES_REQUESTED and crm_change.instructions == "Use customer C-8."


def test_request_changes_without_instructions_is_refused_inline_and_writes_nothing(
    reviewer_web, crm_change, world_state
):
    before = world_state()
    response = signed_post(
        reviewer_web,
        detail(crm_change),
        {"verdict": "request_changes", "rationale": "Wrong customer.", "instructions": " "},
        username="reviewer",
    )
    assert response.status_code == 400 and "Say what the agent should change." in response.content.decode()
    assert world_state() == before and not Decision.objects.exists()


def test_the_thread_shows_every_revision_the_instructions_and_the_payload_diff(
    reviewer_web, agent, crm_change, reviewer
):
    revision = redirected_and_revised(
        crm_change,
        reviewer,
        agent,
        instructions="Use the address from ticket T-9.",
        payload={"customer": "C-7", "email": "right@example.com", "tags": ["vip"]},
    )

    page = reviewer_web.get(detail(revision)).content.decode()

    assert "Revisions" in page and f"#{crm_change.pk}" in page and "revision 1" in page
    assert "Use the address from ticket T-9." in page
    assert "<del>new@example.com</del>" in page and "<ins>right@example.com</ins>" in page
    # the original shows its thread too
    assert "revision 1" in reviewer_web.get(detail(crm_change)).content.decode()


def test_a_claim_shows_to_a_second_reviewer_in_the_queue_and_on_the_detail_page(
    reviewer_web, web_client_for, second_reviewer, crm_change
):
    # when: the first reviewer claims it in the web app
    response = reviewer_web.post(reverse("review:claim", args=[crm_change.pk]), {"action": "claim"})
    assert response.status_code == 302
    assert Proposal.objects.get(pk=crm_change.pk).claimed_by.username == "reviewer"

    # then: the second reviewer sees who is on it, and cannot decide it now
    second = web_client_for(second_reviewer)
    first_name = Proposal.objects.get(pk=crm_change.pk).claimed_by.first_name
    queue = second.get(reverse("review:queue")).content.decode()
    assert f"{first_name} is on it, 15 min left" in queue
    page = second.get(detail(crm_change)).content.decode()
    assert f"{first_name} is on it" in page and 'id="decision-form"' not in page
    assert "is working on this proposal until" in page
    # and the claimant sees their own claim and a release button
    own = reviewer_web.get(detail(crm_change)).content.decode()
    assert "You are on it" in own and 'value="release"' in own and 'id="decision-form"' in own


def test_the_claimant_releases_in_the_web_app(reviewer_web, reviewer, crm_change):
    proposal_claim(proposal_id=crm_change.pk, reviewer=reviewer)
    reviewer_web.post(reverse("review:claim", args=[crm_change.pk]), {"action": "release"})
    assert Proposal.objects.get(pk=crm_change.pk).claimed_by_id is None


def test_senior_reviewers_get_the_reassign_form_and_reviewers_do_not(
    reviewer_web, web_client_for, senior_reviewer, refund
):
    assert 'id="reassign-form"' not in reviewer_web.get(detail(refund)).content.decode()
    senior = web_client_for(senior_reviewer)
    assert 'id="reassign-form"' in senior.get(detail(refund)).content.decode()

    response = senior.post(
        reverse("review:reassign", args=[refund.pk]),
        {"reassign-queue": "finance-senior", "reassign-note": "Too large for the first tier."},
    )

    assert response.status_code == 302
    assert Proposal.objects.get(pk=refund.pk).queue.slug == "finance-senior"
    assert AuditEvent.objects.filter(action="proposal.reassigned").count() == 1


def test_a_plain_reviewer_posting_a_reassignment_is_refused_and_nothing_moves(reviewer_web, refund, world_state):
    before = world_state()
    response = reviewer_web.post(
        reverse("review:reassign", args=[refund.pk]), {"reassign-queue": "support", "reassign-note": "Move it."}
    )
    assert response.status_code == 400
    assert Proposal.objects.get(pk=refund.pk).queue.slug == "finance" and world_state() == before
