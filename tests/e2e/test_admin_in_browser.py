"""The Django admin under the Content-Security-Policy: it works in a real browser, and its actions are audited."""

import pytest
from playwright.sync_api import expect

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from tests.e2e.conftest import PASSWORD
from tests.factories import UserFactory


@pytest.fixture
def site_admin(transactional_db):
    return UserFactory(username="site_admin", role="admin", is_staff=True, is_superuser=True)


def test_an_admin_suspends_an_agent_from_the_changelist(page, site_admin, agent, screenshot):
    # given
    csp_violations = []
    page.on(
        "console",
        lambda message: csp_violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto("/admin/login/?next=/admin/agents/agent/")
    page.get_by_label("Username").fill("site_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # when
    page.locator(f"input[name=_selected_action][value='{agent.pk}']").check()
    page.locator("select[name=action]").select_option("suspend")
    page.get_by_role("button", name="Go").click()
    # then
    expect(page.get_by_text("Suspended: refund-bot")).to_be_visible()
    agent.refresh_from_db()
    assert agent.status == Agent.Status.SUSPENDED
    assert AuditEvent.objects.get(action="agent.suspended").actor_id == str(site_admin.pk)
    page.goto(f"/admin/agents/agent/{agent.pk}/change/")
    screenshot("admin-agent")
    assert csp_violations == []
