"""The queue and detail pages cost the same number of queries whatever the number of
proposals, decisions and queue permissions (no query per row, no permission check per row)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.services import queue_get_or_create, queue_permission_grant
from apps.proposals.models import Decision, Proposal
from apps.proposals.services import proposal_decide
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    client.get(url)  # warm the per-process caches (content types, session), so only the page is counted
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    # The audit append of `proposal.viewed` also writes Merkle nodes on some sequence numbers
    # (that depends on the chain's length, not on this page), so audit statements are left out.
    return sum(1 for query in context.captured_queries if "audit_" not in query["sql"])


def grow(template: Proposal, *, reviewer, second_reviewer, proposals: int, queues: int) -> None:
    """More queues the reviewer holds (directly and through a group), more proposals, more decisions."""
    group, _ = Group.objects.get_or_create(name="extra-reviewers")
    reviewer.groups.add(group)
    slugs = [f"extra-{n}" for n in range(queues)]
    for index, slug in enumerate(slugs):
        queue = queue_get_or_create(slug=slug)
        queue_permission_grant(queue=queue, **({"user": reviewer} if index % 2 else {"group": group}))
    clones = []
    for n in range(proposals):
        clone = Proposal.objects.get(pk=template.pk)
        clone.pk = None
        clone.queue = queue_get_or_create(slug=slugs[n % len(slugs)]) if n % 3 else template.queue
        clone.summary = f"clone {n}"
        clones.append(clone)
    Proposal.objects.bulk_create(clones)
    for clone in Proposal.objects.filter(summary__startswith="clone", queue=template.queue)[:5]:
        proposal_decide(
            proposal_id=clone.pk, reviewer=second_reviewer, verdict="approve", rationale="ok", password=PASSWORD
        )
    for _ in range(3):  # more decisions on the page being opened
        Decision.objects.create(
            proposal=template,
            reviewer=second_reviewer,
            verdict="escalate",
            rationale="r",
            payload_version="x",
            signer_name="S",
            signature_meaning="reviewed",
        )


def test_queue_page_queries_do_not_grow(reviewer_web, reviewer, second_reviewer, refund, crm_change):
    url = reverse("review:queue")
    before = queries(reviewer_web, url)

    grow(refund, reviewer=reviewer, second_reviewer=second_reviewer, proposals=60, queues=8)
    reviewer._hitl_roles = None
    after = queries(reviewer_web, url)

    assert after == before, f"{before} queries with 2 proposals, {after} with 62"


def test_queue_page_with_filters_and_post_reviews_tab_queries_do_not_grow(
    reviewer_web, reviewer, second_reviewer, refund
):
    filtered = reverse("review:queue") + "?risk=wide&q=clone&due_soon=on"
    post_tab = reverse("review:queue") + "?tab=post"
    before = (queries(reviewer_web, filtered), queries(reviewer_web, post_tab))

    grow(refund, reviewer=reviewer, second_reviewer=second_reviewer, proposals=40, queues=6)
    after = (queries(reviewer_web, filtered), queries(reviewer_web, post_tab))

    assert after == before


def test_detail_page_queries_do_not_grow(reviewer_web, reviewer, second_reviewer, refund, crm_change):
    url = reverse("review:detail", args=[refund.pk])
    before = queries(reviewer_web, url)

    grow(refund, reviewer=reviewer, second_reviewer=second_reviewer, proposals=60, queues=8)
    after = queries(reviewer_web, url)

    assert after == before, f"{before} queries before, {after} after"
