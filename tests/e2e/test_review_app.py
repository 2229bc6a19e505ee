"""The reviewer web app in a real browser: sign in, work the queue, sign decisions."""

import re

import pytest
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, Proposal, Status
from tests.e2e.conftest import PASSWORD


@pytest.fixture
def refund(submit):
    return submit(blast_radius=5, summary="Refund order A-1 for 500 EUR", irreversible=True, compliance_exposure="high")


@pytest.fixture
def hidden_proposal(submit):
    """Routed to the `default` queue, which the reviewer does not hold."""
    return submit(summary="Refund in a queue nobody here reviews")


def open_detail(page, proposal):
    page.goto(f"/review/{proposal.pk}/")
    shows(page, proposal)


def shows(page, proposal):
    """The detail page of the proposal is open and its script listens for keys."""
    expect(page.get_by_role("heading", name=re.compile(f"#{proposal.pk}"))).to_be_visible()
    page.locator("html[data-js-ready]").wait_for(state="attached")


def sign(page, *, username="reviewer", password=PASSWORD):
    username_field = page.locator("#decision-form #id_username")
    if username_field.count():
        username_field.fill(username)
    page.locator("#decision-form #id_password").fill(password)
    page.get_by_role("button", name="Sign and submit").click()


def sign_batch(page, *, rationale, username="reviewer", password=PASSWORD):
    """Approve the selected proposals with the queue's batch form."""
    batch = page.locator("#batch-form")
    batch.get_by_label("Approve").check()
    batch.get_by_label("Rationale").fill(rationale)
    batch.get_by_label("Username").fill(username)
    batch.get_by_label("Password").fill(password)
    batch.get_by_role("button", name="Sign batch decision").click()


def audit_head():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


def test_login_shows_only_the_permitted_proposals(
    page, login, reviewer, crm_changes, refund, hidden_proposal, screenshot
):
    # given
    crm_changes(2)
    # when
    login("reviewer")
    # then
    table = page.locator("#queue-results")
    expect(table).to_contain_text("Update the e-mail of customer C-1")
    expect(table).to_contain_text("Refund order A-1 for 500 EUR")
    expect(table).to_contain_text("0/2")
    expect(table).not_to_contain_text("Refund in a queue nobody here reviews")
    expect(table.locator(".badge", has_text="Irreversible")).to_be_visible()
    screenshot("queue")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("queue-phone")
    assert page.console_errors == []


def test_approve_with_a_signature(page, login, reviewer, crm_changes, screenshot):
    # given
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)
    screenshot("detail")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("detail-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    # when
    page.locator("#decision-form").get_by_label("Approve").check()
    page.get_by_label("Rationale (required)").fill("The recorded call confirms the new address.")
    sign(page)
    # then
    expect(page.get_by_text(f"Your decision on #{change.pk} is signed.")).to_be_visible()
    change.refresh_from_db()
    assert change.status == Status.APPROVED
    event = AuditEvent.objects.get(action="decision.recorded", object_id=str(change.pk))
    assert event.actor_id == str(reviewer.pk)
    assert AuditEvent.objects.filter(action="proposal.viewed", object_id=str(change.pk)).exists()
    page.get_by_role("link", name="My decisions").click()
    expect(page.locator("main")).to_contain_text("The recorded call confirms the new address.")
    screenshot("history")
    page.get_by_role("link", name="My licence").click()
    expect(page.locator("main")).to_contain_text(reviewer.reviewer_profile.licence_number)
    screenshot("licence")
    assert page.console_errors == []


def test_modify_shows_the_diff_and_approves_the_new_payload(page, login, reviewer, crm_changes, screenshot):
    # given
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)
    # when
    page.locator("#decision-form").get_by_label("Modify").check()
    page.get_by_label("email").fill("new1@example.com")
    page.get_by_label("credit").fill("50")
    diff = page.locator("#diff-preview")
    expect(diff).to_contain_text("new1@example.com")
    expect(diff).to_contain_text("old1@example.com")
    screenshot("detail-modify")
    page.get_by_label("Rationale (required)").fill("Customer gave a corrected address; credit halved.")
    sign(page)
    # then
    expect(page.get_by_text(f"Your decision on #{change.pk} is signed.")).to_be_visible()
    change.refresh_from_db()
    assert change.status == Status.APPROVED
    assert change.final_payload == {"customer": "C-1", "email": "new1@example.com", "tags": ["vip"], "credit": 50}
    assert Decision.objects.get(proposal=change).verdict == "modify"


def test_reject_without_rationale_shows_an_error_and_writes_nothing(page, login, reviewer, crm_changes):
    # given
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)
    head = audit_head()
    # when
    page.locator("#decision-form").get_by_label("Reject").check()
    sign(page)
    # then
    expect(page.get_by_text("A rationale is required.")).to_be_visible()
    assert page.locator("#decision-form").get_by_label("Reject").is_checked()  # what was typed is kept
    assert Decision.objects.count() == 0
    assert audit_head() == head
    change.refresh_from_db()
    assert change.status == Status.PENDING


def test_wrong_password_shows_an_error_and_writes_nothing(page, login, reviewer, crm_changes):
    # given
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)
    head = audit_head()
    # when
    page.locator("#decision-form").get_by_label("Approve").check()
    page.get_by_label("Rationale (required)").fill("Looks right to me.")
    sign(page, password="not-my-password")
    # then
    expect(page.get_by_text("Wrong password.", exact=True)).to_be_visible()
    expect(page.get_by_label("Rationale (required)")).to_have_value("Looks right to me.")
    assert Decision.objects.count() == 0
    # the documented exception: the failed signature itself is recorded (auth.signature_failed)
    assert list(AuditEvent.objects.filter(seq__gt=head).values_list("action", flat=True)) == ["auth.signature_failed"]


def test_keyboard_approve(page, login, reviewer, crm_changes):
    # given
    first, second = crm_changes(2)
    login("reviewer")
    open_detail(page, first)
    page.locator("body").click(position={"x": 5, "y": 300})
    # when: a chooses approve and puts the cursor in the rationale; Enter in the password signs
    page.keyboard.press("a")
    expect(page.locator("#decision-form").get_by_label("Approve")).to_be_checked()
    expect(page.get_by_label("Rationale (required)")).to_be_focused()
    page.keyboard.type("Confirmed on the recorded call.")
    page.locator("#decision-form #id_username").fill("reviewer")
    page.locator("#decision-form #id_password").fill(PASSWORD)
    page.keyboard.press("Enter")
    # then: it is approved, and the next proposal opens
    shows(page, second)
    first.refresh_from_db()
    assert first.status == Status.APPROVED
    # and the second signing of the session asks for the password only
    assert page.locator("#decision-form #id_username").count() == 0


def test_j_and_k_move_between_proposals(page, login, reviewer, crm_changes):
    first, second = crm_changes(2)
    login("reviewer")
    open_detail(page, first)
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    shows(page, second)
    page.keyboard.press("k")
    shows(page, first)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("/")  # search lives on the queue page
    expect(page.get_by_label("Search")).to_be_focused()


def test_a_batch_of_three_is_signed_once_and_decided_one_by_one(page, login, reviewer, crm_changes, refund):
    # given
    changes = crm_changes(3)
    login("reviewer")
    # when
    for change in changes:
        page.locator(f"#select-{change.pk}").check()
    expect(page.locator(f"#select-{refund.pk}")).to_be_disabled()  # another action type and rule
    sign_batch(page, rationale="Three address changes, each confirmed on a recorded call.")
    # then
    expect(page.get_by_text("Signed 3 decisions.")).to_be_visible()
    assert set(Proposal.objects.filter(pk__in=[c.pk for c in changes]).values_list("status", flat=True)) == {
        Status.APPROVED
    }
    assert Decision.objects.filter(proposal__in=changes).count() == 3
    assert AuditEvent.objects.filter(action="decision.recorded").count() == 3
    refund.refresh_from_db()
    assert refund.status == Status.PENDING


def test_an_outsider_sees_an_empty_queue_and_404_on_a_direct_url(
    page, login, outsider, crm_changes, refund, screenshot
):
    # given
    (change,) = crm_changes(1)
    page.goto("/accounts/login/")
    screenshot("login")
    # when
    login("outsider")
    # then
    expect(page.get_by_text("You do not hold the review permission of any queue yet")).to_be_visible()
    expect(page.get_by_text("Nothing to decide.")).to_have_count(0)
    expect(page.locator("#queue-results")).not_to_contain_text("Update the e-mail")
    response = page.goto(f"/review/{change.pk}/")
    assert response.status == 404
    expect(page.locator(".error-page a[href='/']")).to_be_visible()
    assert not AuditEvent.objects.filter(action="proposal.viewed").exists()


def test_single_key_shortcuts_can_be_turned_off(page, login, reviewer, crm_changes):
    # given (WCAG 2.1.4)
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)
    page.get_by_role("button", name="Keyboard shortcuts").click()
    page.get_by_label("Single-key shortcuts on").uncheck()
    page.get_by_role("button", name="Close").click()
    # when
    open_detail(page, change)
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("a")
    # then
    expect(page.locator("#decision-form").get_by_label("Approve")).not_to_be_checked()
