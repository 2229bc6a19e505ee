"""Post-action review of a sampled execution in the web app: confirm, or flag with a correction."""

import json

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.proposals.models import PostActionReview, ReviewState
from apps.proposals.services import proposal_report_execution
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def sampled_reply(submit, agent):
    reply = submit(action_type="support.reply", payload={"ticket": "T-1", "text": "Hello"})
    proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={"sent": True})
    return reply


def review_url(proposal):
    return reverse("review:post_review", args=[proposal.pk])


def test_the_detail_page_offers_the_post_action_review(reviewer_web, sampled_reply):
    response = reviewer_web.get(reverse("review:detail", args=[sampled_reply.pk]))

    assert response.context["post_review_form"] is not None
    assert 'id="post-review-form"' in response.content.decode()


def test_confirm(reviewer_web, sampled_reply):
    response = reviewer_web.post(
        review_url(sampled_reply),
        {
            "verdict": "confirm",
            "rationale": "reply was right",
            "username": "reviewer",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 302
    assert PostActionReview.objects.get(proposal=sampled_reply).state == ReviewState.CONFIRMED
    assert AuditEvent.objects.filter(action="review.confirmed").exists()


def test_flag_with_a_correction(reviewer_web, sampled_reply):
    response = reviewer_web.post(
        review_url(sampled_reply),
        {
            "verdict": "flag",
            "rationale": "wrong tone",
            "correction": json.dumps({"text": "Dear customer"}),
            "username": "reviewer",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 302
    review = PostActionReview.objects.get(proposal=sampled_reply)
    assert review.state == ReviewState.FLAGGED and review.correction == {"text": "Dear customer"}


def test_flag_without_a_correction_is_refused_inline(reviewer_web, sampled_reply, world_state):
    before = world_state()

    response = reviewer_web.post(
        review_url(sampled_reply),
        {
            "verdict": "flag",
            "rationale": "wrong",
            "username": "reviewer",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 400 and "A flag needs a correction." in response.content.decode()
    assert world_state() == before


def test_a_wrong_password_writes_nothing(reviewer_web, sampled_reply, world_state):
    before = world_state()

    response = reviewer_web.post(
        review_url(sampled_reply),
        {
            "verdict": "confirm",
            "rationale": "fine",
            "username": "reviewer",
            "password": "nope",
        },
    )

    assert response.status_code == 400 and "Wrong password." in response.content.decode()
    # the documented exception: the failed attempt itself is recorded (auth.signature_failed)
    assert world_state() == (before[0], before[1] + 1)
    assert AuditEvent.objects.order_by("-seq").first().action == "auth.signature_failed"


def test_the_header_of_a_sampled_execution_shows_its_review_due_not_approvals(reviewer_web, sampled_reply):
    page = reviewer_web.get(f"/review/{sampled_reply.pk}/").content.decode()
    head = page.split('class="meta"')[1].split("</p>")[0]

    assert "approved by the policy" in head and "post-action review" in head
    assert "approvals" not in head and "SLA due: —" not in page
