"""The reviewer workflow in a real browser: redirect and resubmit, claims seen by a second
reviewer, and a batch of 25 signed with one password entry."""

import re

from playwright.sync_api import expect

from apps.proposals.models import Decision, Proposal, SigningBatch, Status
from tests.conftest import proposal_body
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_review_app import open_detail, shows, sign, sign_batch


def test_redirect_with_instructions_and_the_revision_round_trip(page, login, reviewer, agent_client, crm_changes):
    # given
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)

    # when: the reviewer sends it back (key c) with instructions
    page.keyboard.press("c")
    instructions = page.locator("#decision-form textarea[name=instructions]")
    expect(instructions).to_be_focused()
    instructions.fill("Use the address from ticket T-9.")
    page.locator("#decision-form textarea[name=rationale]").fill("The e-mail is not the customer's.")
    sign(page)

    # then
    expect(page.get_by_text(f"Your decision on #{change.pk} is signed.")).to_be_visible()
    change.refresh_from_db()
    assert change.status == Status.CHANGES_REQUESTED

    # when: the agent reads the instructions and submits its revision through the API
    body = agent_client.get(f"/api/v1/proposals/{change.pk}/").json()
    assert body["instructions"] == "Use the address from ticket T-9."
    revised = agent_client.post(
        f"/api/v1/proposals/{change.pk}/revisions/",
        proposal_body(
            action_type="crm.update",
            payload={"customer": "C-1", "email": "right@example.com"},
            summary="Update the e-mail of customer C-1 (revised)",
        ),
        format="json",
    ).json()

    # then: the reviewer sees the thread, the instructions and the diff, and approves the revision
    page.goto(f"/review/{revised['id']}/")
    revision = Proposal.objects.get(pk=revised["id"])
    shows(page, revision)
    thread = page.locator("section.thread")
    expect(thread).to_contain_text("Use the address from ticket T-9.")
    expect(thread).to_contain_text("revision 1")
    expect(thread.locator("del", has_text="old1@example.com")).to_be_visible()
    expect(thread.locator("ins", has_text="right@example.com")).to_be_visible()
    page.keyboard.press("a")
    page.locator("#decision-form textarea[name=rationale]").fill("Matches the ticket now.")
    sign(page)
    expect(page.get_by_text(f"Your decision on #{revision.pk} is signed.")).to_be_visible()
    revision.refresh_from_db()
    assert revision.status == Status.APPROVED and revision.revision_of_id == change.pk
    assert page.console_errors == []


def test_a_claim_is_shown_to_a_second_reviewer(
    page, login, browser, live_server, reviewer, second_reviewer, crm_changes
):
    # given
    (change,) = crm_changes(1)
    login("reviewer")
    open_detail(page, change)

    # when: the first reviewer takes it (key t)
    page.keyboard.press("t")
    expect(page.locator("section.claim")).to_contain_text("You are on it")

    # then: the second reviewer sees who is on it, in the queue and on the page, and cannot decide
    other = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="en-GB")
    try:
        second = other.new_page()
        second.goto("/accounts/login/")
        second.get_by_label("Username").fill("second_reviewer")
        second.get_by_label("Password").fill(PASSWORD)
        second.get_by_role("button", name="Sign in").click()
        second.wait_for_url("**/review/**")
        name = reviewer.first_name
        expect(second.locator("#queue-results")).to_contain_text(re.compile(f"{name} is on it, 1[45] min left"))
        second.goto(f"/review/{change.pk}/")
        expect(second.locator("section.claim")).to_contain_text(f"{name} is on it")
        expect(second.locator("#decision-form")).to_have_count(0)
        expect(second.get_by_text("is working on this proposal until")).to_be_visible()
    finally:
        other.close()

    # when the claimant releases it (key t again), it is free
    page.keyboard.press("t")
    expect(page.locator("section.claim")).to_contain_text("Nobody has claimed this proposal.")
    assert Proposal.objects.get(pk=change.pk).claimed_by_id is None


def test_a_batch_of_25_is_signed_with_one_password_entry(page, login, reviewer, crm_changes, monkeypatch):
    # given
    changes = crm_changes(25)
    verifications = []
    check_password = type(reviewer).check_password
    monkeypatch.setattr(
        type(reviewer),
        "check_password",
        lambda user, raw: verifications.append(user.pk) or check_password(user, raw),
    )
    login("reviewer")
    verifications.clear()  # signing in is no signature

    # when
    for change in changes:
        page.locator(f"#select-{change.pk}").check()
    expect(page.locator("[data-batch-count]")).to_have_text("25")
    sign_batch(page, rationale="Twenty-five address changes, each confirmed on a recorded call.")

    # then
    expect(page.get_by_text("Signed 25 decisions.")).to_be_visible()
    assert verifications == [reviewer.pk]
    signing = SigningBatch.objects.get()
    assert signing.size == 25 and Decision.objects.filter(batch=signing).count() == 25
    assert set(Proposal.objects.filter(pk__in=[c.pk for c in changes]).values_list("status", flat=True)) == {
        Status.APPROVED
    }
