"""The detail page in words: the routing explained, the four-eyes state before typing, payloads
in reading order, the escalated-away explanation, error pages inside the layout."""

import pytest
from django.utils import translation

from apps.accounts.models import Queue
from apps.proposals.models import Proposal
from apps.proposals.services import proposal_decide
from apps.review import wording
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def detail(client, proposal):
    return client.get(f"/review/{proposal.pk}/")


def test_the_why_summary_says_what_the_rule_needs_by_when_and_where_it_goes_next(reviewer_web, submit):
    refund = submit(compliance_exposure="high", summary="Refund A-1")

    response = detail(reviewer_web, refund)

    why = " ".join(response.context["routing_sentences"])
    assert "payments.* with high compliance exposure needs 2 approvals in Finance within 30 minutes" in why
    assert "escalates to finance-senior, then compliance" in why
    assert "rule 'refunds' matched" not in response.content.decode()


def test_the_why_summary_speaks_german(submit):
    refund = submit(compliance_exposure="high")

    with translation.override("de"):
        why = " ".join(wording.routing_sentences(refund))

    assert "braucht 2 Genehmigungen in Finance innerhalb von 30 Minuten" in why
    assert "hoher Compliance-Exposition" in why


def test_a_confidence_below_the_rules_minimum_is_explained(submit):
    refund = submit(confidence=0.8)  # small-refunds would run it, but only from 90 %

    why = " ".join(wording.routing_sentences(refund))

    assert "the confidence of 80 % is below its minimum of 90 %" in why


def test_the_last_tier_says_what_happens_on_expiry(submit):
    refund = submit(compliance_exposure="high")
    refund.escalation_level = 2

    assert "last tier" in wording.routing_sentences(refund)[-1]


def test_rule_checks_are_humanized_and_other_rules_set_apart(submit):
    refund = submit(compliance_exposure="high")

    matched, others = wording.routing_trace(refund.routing)

    assert matched.name == "refunds"
    assert [rule.name for rule in others] == ["small-refunds"]
    values = {check["condition"]: (check["expected"], check["actual"]) for check in others[0].checks}
    assert values["Irreversible"] == ("No", "No")
    assert values["Compliance exposure"] == ("none or low", "high")
    assert values["Agent"][0] == "any"


def test_a_long_payload_shows_important_and_changed_fields_first_and_folds_the_rest():
    payload = {f"field_{n:02d}": n for n in range(38)} | {"amount": "10.00", "lines": [1, 2]}
    changed = dict(payload, field_30=999)

    shown, more = wording.payload_fields(changed, original=payload)

    assert [field.key for field in shown[:2]] == ["field_30", "amount"]
    assert shown[0].changed and shown[1].important
    assert len(shown) == wording.PAYLOAD_FIELDS_SHOWN and len(shown) + len(more) == 40
    assert more[-1].key == "lines" and more[-1].nested


def test_a_reviewer_who_approved_sees_the_four_eyes_state_instead_of_the_form(reviewer_web, reviewer, submit):
    refund = submit(compliance_exposure="high")
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=PASSWORD)

    response = detail(reviewer_web, refund)

    assert response.context["form"] is None
    assert response.context["approved_by_me"]
    page = response.content.decode()
    assert "Four-eyes rule: 1 of 2 approvals" in page
    assert "You approved this version" in page
    assert 'id="decision-form"' not in page


def test_a_final_proposal_is_shown_in_its_status_colour(reviewer_web, reviewer, crm_change):
    proposal_decide(proposal_id=crm_change.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=PASSWORD)

    page = detail(reviewer_web, crm_change).content.decode()

    assert 'class="status-box status-approved"' in page
    assert "notice" not in page.split('id="h-decide"')[1][:300]


def test_an_item_escalated_away_is_explained(reviewer_web, submit):
    refund = submit(compliance_exposure="high")
    senior, _ = Queue.objects.get_or_create(slug="finance-senior", defaults={"name": "Finance senior"})
    Proposal.objects.filter(pk=refund.pk).update(queue=senior, escalation_level=1)

    response = detail(reviewer_web, refund)

    assert response.status_code == 404
    page = response.content.decode()
    assert "is no longer in your queues" in page and "tier 1" in page
    assert 'href="/review/"' in page


def test_an_outsider_gets_no_explanation_of_a_proposal_never_theirs(web_client_for, outsider, submit):
    refund = submit(compliance_exposure="high")
    senior, _ = Queue.objects.get_or_create(slug="finance-senior", defaults={"name": "Finance senior"})
    Proposal.objects.filter(pk=refund.pk).update(queue=senior, escalation_level=1)

    response = detail(web_client_for(outsider), refund)

    assert response.status_code == 404
    assert "no longer in your queues" not in response.content.decode()


def test_403_and_404_render_in_the_layout_with_the_reason_and_a_way_back(reviewer_web):
    forbidden = reviewer_web.get("/compliance/", HTTP_REFERER="http://testserver/review/")
    missing = reviewer_web.get("/review/999999/")

    for response, status in ((forbidden, 403), (missing, 404)):
        page = response.content.decode()
        assert response.status_code == status
        assert 'class="site-header"' in page and 'class="reason"' in page
        assert 'href="/"' in page
    assert "No such proposal." in missing.content.decode()
    assert 'href="http://testserver/review/"' in forbidden.content.decode()


def test_an_unknown_api_path_keeps_the_json_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_evidence_links_only_http_addresses(reviewer_web, submit):
    refund = submit(
        compliance_exposure="high", evidence=["https://example.com/receipt", "javascript:alert(1)", {"url": "ftp://x"}]
    )

    page = detail(reviewer_web, refund).content.decode()

    assert '<a href="https://example.com/receipt"' in page
    assert 'href="javascript:' not in page and 'href="ftp:' not in page


def test_the_500_page_uses_the_layout_without_touching_the_database(rf, django_assert_num_queries):
    from hitlplatform.error_pages import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/review/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert 'class="site-header"' in page and "Error 500" in page and 'href="/"' in page
