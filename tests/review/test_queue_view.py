"""The queue page: exactly the proposals the user may decide, most urgent first, with filters."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.proposals.models import Proposal
from apps.proposals.services import proposal_decide, proposal_report_execution
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

QUEUE = reverse("review:queue")


def listed_ids(response) -> list[int]:
    return [proposal.pk for proposal in response.context["page"].object_list]


def test_queue_lists_the_pending_proposals_of_the_users_queues(reviewer_web, refund, crm_change, submit):
    # given: one in a queue the reviewer lacks (`default`), one already final
    hidden = submit(summary="in the default queue")
    final = submit(action_type="crm.update", payload={"n": 1})
    Proposal.objects.filter(pk=final.pk).update(status="rejected")
    # when
    response = reviewer_web.get(QUEUE)
    # then
    assert response.status_code == 200
    assert set(listed_ids(response)) == {refund.pk, crm_change.pk}
    assert hidden.summary not in response.content.decode()


def test_queue_leaves_out_what_the_user_cannot_decide(
    web_client_for, agent_owner, reviewer, reviewer_web, refund, submit
):
    # given: the owner of the agent may not decide its proposals; a contract change needs level 3
    contract = submit(action_type="contracts.amend", payload={"contract": "K-1"})
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=PASSWORD)
    # when
    owner_view = web_client_for(agent_owner).get(QUEUE)
    reviewer_view = reviewer_web.get(QUEUE)
    # then
    assert listed_ids(owner_view) == []
    assert contract.pk not in listed_ids(reviewer_view)  # reviewer is level 2
    assert refund.pk not in listed_ids(reviewer_view)  # already approved by them; needs another reviewer


def test_senior_reviewer_sees_escalations_into_their_queue(web_client_for, senior_reviewer, reviewer, refund):
    # given
    proposal_decide(
        proposal_id=refund.pk, reviewer=reviewer, verdict="escalate", rationale="needs senior", password=PASSWORD
    )
    # when
    response = web_client_for(senior_reviewer).get(QUEUE)
    # then
    assert listed_ids(response) == [refund.pk]
    assert "Tier 1" in response.content.decode()


def test_queue_is_ordered_by_sla_due(reviewer_web, submit):
    # given
    later = submit(action_type="crm.update", payload={"n": 1})
    sooner = submit(action_type="crm.update", payload={"n": 2})
    Proposal.objects.filter(pk=sooner.pk).update(sla_due_at=timezone.now() + timedelta(minutes=5))
    # when
    response = reviewer_web.get(QUEUE)
    # then
    assert listed_ids(response) == [sooner.pk, later.pk]


def test_rows_show_the_approvals_so_far(web_client_for, second_reviewer, reviewer, refund):
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=PASSWORD)

    response = web_client_for(second_reviewer).get(QUEUE)

    assert response.context["page"].object_list[0].approvals_so_far == 1
    assert "1/2" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"queue": "finance"}, {"refund"}),
        ({"action_type": "crm.update"}, {"crm"}),
        ({"risk": "irreversible"}, {"refund"}),
        ({"risk": "high_exposure"}, {"refund"}),
        ({"risk": "wide"}, set()),
        ({"due_soon": "on"}, {"refund"}),
        ({"q": "e-mail"}, {"crm"}),
        ({"agent": "refund-bot"}, {"refund", "crm"}),
    ],
)
def test_filters_and_search(reviewer_web, submit, query, expected):
    # given
    proposals = {
        "refund": submit(blast_radius=5, irreversible=True, compliance_exposure="high", summary="Refund big"),
        "crm": submit(action_type="crm.update", payload={"n": 1}, summary="Change the e-mail"),
    }
    # when
    response = reviewer_web.get(QUEUE, query)
    # then
    assert set(listed_ids(response)) == {proposals[name].pk for name in expected}


def test_search_by_id(reviewer_web, refund, crm_change):
    response = reviewer_web.get(QUEUE, {"q": f"#{crm_change.pk}"})

    assert listed_ids(response) == [crm_change.pk]


def test_per_queue_counts(reviewer_web, refund, submit):
    submit(action_type="crm.update", payload={"n": 1})
    submit(action_type="crm.update", payload={"n": 2})

    response = reviewer_web.get(QUEUE)

    counts = {queue.slug: count for queue, count in response.context["queues"]}
    assert counts == {"finance": 1, "support": 2}
    assert response.context["pending_total"] == 3


def test_pagination(reviewer_web, submit, settings):
    settings.REVIEW_PAGE_SIZE = 2
    created = [submit(action_type="crm.update", payload={"n": n}) for n in range(3)]

    first = reviewer_web.get(QUEUE)
    second = reviewer_web.get(QUEUE, {"page": 2})

    assert len(listed_ids(first)) == 2 and len(listed_ids(second)) == 1
    assert set(listed_ids(first) + listed_ids(second)) == {p.pk for p in created}


def test_an_htmx_filter_returns_only_the_results(reviewer_web, crm_change):
    response = reviewer_web.get(QUEUE, {"q": "e-mail"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-results")

    body = response.content.decode()
    assert "<html" not in body and f"#{crm_change.pk}" in body


def test_post_action_reviews_have_their_own_tab(reviewer_web, submit, agent):
    # given: a support reply runs, is reported and is sampled (rate 1.0)
    reply = submit(action_type="support.reply", payload={"ticket": "T-1", "text": "Hello"})
    proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})
    # when
    decisions = reviewer_web.get(QUEUE)
    reviews = reviewer_web.get(QUEUE, {"tab": "post"})
    # then
    assert reply.pk not in listed_ids(decisions)
    assert [review.proposal_id for review in reviews.context["page"].object_list] == [reply.pk]


def test_an_outsider_sees_an_empty_queue(web_client_for, outsider, refund, crm_change):
    response = web_client_for(outsider).get(QUEUE)

    assert listed_ids(response) == []
    assert refund.summary not in response.content.decode()


def test_a_compliance_officer_lands_on_the_compliance_area(web_client_for, compliance_officer, refund):
    response = web_client_for(compliance_officer).get(QUEUE)

    assert response.status_code == 302 and response["Location"] == "/compliance/"


def test_an_admin_without_queues_lands_on_the_admin(web_client_for, admin):
    client = web_client_for(admin)

    assert client.get(QUEUE)["Location"] == "/admin/"
    assert client.get("/")["Location"] == "/admin/"


def test_a_reviewer_without_queue_permission_is_told_so(web_client_for, outsider, refund):
    page = web_client_for(outsider).get(QUEUE).content.decode()

    assert "You do not hold the review permission of any queue yet" in page
    assert "Nothing to decide" not in page


def test_a_search_without_hits_says_so(web_client_for, reviewer, refund):
    page = web_client_for(reviewer).get(QUEUE, {"q": "no such words"}).content.decode()

    assert "No pending proposal matches these filters" in page
    assert "Nothing to decide" not in page


def test_the_queue_needs_a_login(client):
    response = client.get(QUEUE)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
