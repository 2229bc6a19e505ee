"""My decisions (with filters) and my licence details."""

import datetime

import pytest
from django.urls import reverse

from apps.proposals.services import proposal_decide
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_my_decisions_lists_only_mine_with_filters(reviewer_web, reviewer, second_reviewer, refund, crm_change):
    # given
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="mine 1", password=PASSWORD)
    proposal_decide(
        proposal_id=crm_change.pk, reviewer=reviewer, verdict="reject", rationale="mine 2", password=PASSWORD
    )
    proposal_decide(
        proposal_id=refund.pk, reviewer=second_reviewer, verdict="approve", rationale="theirs", password=PASSWORD
    )
    # when
    everything = reviewer_web.get(reverse("review:history"))
    rejections = reviewer_web.get(reverse("review:history"), {"verdict": "reject"})
    refunds = reviewer_web.get(reverse("review:history"), {"action_type": "payments.refund"})
    tomorrow = reviewer_web.get(
        reverse("review:history"), {"since": (datetime.date.today() + datetime.timedelta(days=1)).isoformat()}
    )
    # then
    assert [d.rationale for d in everything.context["page"].object_list] == ["mine 2", "mine 1"]
    assert [d.rationale for d in rejections.context["page"].object_list] == ["mine 2"]
    assert [d.rationale for d in refunds.context["page"].object_list] == ["mine 1"]
    assert list(tomorrow.context["page"].object_list) == []
    assert "theirs" not in everything.content.decode()


def test_my_licence_shows_the_profile_and_queues(reviewer_web, reviewer):
    profile = reviewer.reviewer_profile
    profile.jurisdiction = "DE-BY"
    profile.licence_expires_on = datetime.date(2030, 1, 31)
    profile.save()

    response = reviewer_web.get(reverse("review:profile"))

    body = response.content.decode()
    assert profile.licence_number in body and "DE-BY" in body and "Finance" in body and "Support" in body
    assert "expired" not in body


def test_an_expired_licence_is_marked(reviewer_web, reviewer):
    profile = reviewer.reviewer_profile
    profile.licence_expires_on = datetime.date(2020, 1, 1)
    profile.save()

    response = reviewer_web.get(reverse("review:profile"))

    assert "expired" in response.content.decode()


def test_every_signature_meaning_shows_in_the_readers_language(reviewer_web, reviewer, crm_change):
    # "reviewed, changes requested" was missing from the translated words: it showed in English
    proposal_decide(
        proposal_id=crm_change.pk,
        reviewer=reviewer,
        verdict="request_changes",
        rationale="Wrong address.",
        instructions="Use the postcode of the last order.",
        password=PASSWORD,
    )

    page = reviewer_web.get(reverse("review:history"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "geprüft, Änderungen angefordert" in page and "reviewed, changes requested" not in page
