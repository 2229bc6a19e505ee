"""The Django admin: agents, policies (four eyes), queues with object permissions, users, read-only records.
Every change made there is in the audit trail."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from guardian.shortcuts import get_perms

from apps.accounts.models import Queue
from apps.agents.models import Agent, AgentKey
from apps.audit.models import AuditEvent
from apps.policies.models import PolicyVersion
from apps.proposals.models import Decision
from apps.proposals.services import proposal_decide
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(web_client_for, admin):
    return web_client_for(admin)


@pytest.fixture
def second_admin(db):
    return UserFactory(username="second_admin", role="admin", is_staff=True, is_superuser=True)


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def changelist_action(client, model, action, ids):
    return client.post(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in ids]},
    )


# --- agents -------------------------------------------------------------------------


def test_suspend_and_resume_actions_go_through_the_services(admin_web, admin, agent):
    changelist_action(admin_web, Agent, "suspend", [agent.pk])
    agent.refresh_from_db()
    assert agent.is_suspended
    assert events("agent.suspended")[0].actor_id == str(admin.pk)

    changelist_action(admin_web, Agent, "resume", [agent.pk])
    agent.refresh_from_db()
    assert not agent.is_suspended and events("agent.resumed")


def test_key_rotation_shows_the_new_key_once(admin_web, agent):
    old_prefixes = set(AgentKey.objects.filter(agent=agent).values_list("prefix", flat=True))

    response = changelist_action(admin_web, Agent, "rotate_key", [agent.pk])

    new_key = AgentKey.objects.get(agent=agent, revoked_at__isnull=True)
    assert new_key.prefix not in old_prefixes
    assert any(new_key.prefix in text for text in texts(response))
    assert events("agent.keys_revoked") and events("agent.key_issued")


def test_registering_an_agent_in_the_admin_issues_a_key(admin_web, admin):
    response = admin_web.post(
        reverse("admin:agents_agent_add"),
        {
            "name": "triage-bot",
            "description": "",
            "owner": "",
            "callback_url": "",
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
            "keys-MIN_NUM_FORMS": "0",
            "keys-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    agent = Agent.objects.get(name="triage-bot")
    assert AgentKey.objects.filter(agent=agent, revoked_at__isnull=True).count() == 1
    assert any("shown once" in text for text in texts(response))
    assert events("agent.created")[0].actor_id == str(admin.pk)


def test_editing_an_agent_is_audited(admin_web, agent, admin):
    url = reverse("admin:agents_agent_change", args=[agent.pk])
    response = admin_web.post(
        url,
        {
            "description": "now documented",
            "owner": "",
            "callback_url": "https://example.invalid/new",
            "keys-TOTAL_FORMS": "1",
            "keys-INITIAL_FORMS": "1",
            "keys-MIN_NUM_FORMS": "0",
            "keys-MAX_NUM_FORMS": "1000",
            "keys-0-id": str(agent.keys.get().pk),
            "keys-0-agent": str(agent.pk),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    change = events("admin.changed")[-1]
    assert change.object_id == str(agent.pk) and change.actor_id == str(admin.pk)


# --- policies -----------------------------------------------------------------------


def test_policy_versions_are_read_only(admin_web, policy):
    page = admin_web.get(reverse("admin:policies_policyversion_change", args=[policy.pk]))
    delete = admin_web.post(reverse("admin:policies_policyversion_delete", args=[policy.pk]), {"post": "yes"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert "Draft a change from this version" in page.content.decode()
    assert delete.status_code == 403 and PolicyVersion.objects.filter(pk=policy.pk).exists()


def test_saving_a_change_creates_a_draft_that_another_admin_must_activate(
    admin_web, web_client_for, second_admin, policy, staffed
):
    # given: the admin drafts a change
    source = policy.source.replace("sla: 30m", "sla: 20m")
    response = admin_web.post(
        reverse("admin:policies_policyversion_draft_from", args=[policy.pk]),
        {"source": source, "comment": "faster refunds"},
    )
    draft = PolicyVersion.objects.get(number=2)
    assert response.status_code == 302 and draft.status == PolicyVersion.Status.DRAFT
    assert events("policy.drafted")
    # when: the drafter tries to activate it
    refused = changelist_action(admin_web, PolicyVersion, "activate", [draft.pk])
    draft.refresh_from_db()
    # then
    assert draft.status == PolicyVersion.Status.DRAFT
    assert any("different administrator" in text for text in texts(refused))
    # when: a second admin activates it
    changelist_action(web_client_for(second_admin), PolicyVersion, "activate", [draft.pk])
    draft.refresh_from_db()
    policy.refresh_from_db()
    # then
    assert draft.status == PolicyVersion.Status.ACTIVE and policy.status == PolicyVersion.Status.RETIRED
    assert events("policy.changed")[-1].actor_id == str(second_admin.pk)


def test_activating_a_draft_with_an_unstaffed_tier_is_refused_naming_it(
    admin_web, web_client_for, second_admin, policy, reviewer, senior_reviewer
):
    # given: nobody may decide in the compliance queue, the last tier of refunds
    admin_web.post(
        reverse("admin:policies_policyversion_draft_from", args=[policy.pk]),
        {"source": policy.source.replace("sla: 30m", "sla: 20m"), "comment": "faster refunds"},
    )
    draft = PolicyVersion.objects.get(number=2)
    # when
    refused = changelist_action(web_client_for(second_admin), PolicyVersion, "activate", [draft.pk])
    # then
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.DRAFT
    assert any("rule refunds, escalation tier 2 compliance" in text for text in texts(refused))
    # when: the second admin accepts it explicitly
    changelist_action(web_client_for(second_admin), PolicyVersion, "activate_unstaffed", [draft.pk])
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.ACTIVE
    assert events("policy.unstaffed_accepted")[-1].actor_id == str(second_admin.pk)


def test_an_invalid_draft_is_refused_with_the_reason(admin_web, policy):
    response = admin_web.post(
        reverse("admin:policies_policyversion_draft"), {"source": "rules: [{name: x}]", "comment": "broken"}
    )

    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert PolicyVersion.objects.count() == 1


# --- queues and object permissions ------------------------------------------------------


def test_granting_and_revoking_a_queue_permission_is_audited(admin_web, admin, outsider):
    queue = Queue.objects.create(slug="claims", name="Claims")
    url = reverse("admin:accounts_queue_permissions_manage_user", args=[queue.pk, outsider.pk])

    admin_web.post(url, {"permissions": ["review_queue"]})
    assert get_perms(outsider, queue) == ["review_queue"]
    granted = events("permission.granted")[-1]
    assert granted.actor_id == str(admin.pk) and granted.object_id == str(queue.pk)

    admin_web.post(url, {"submit_manage_user": "Save"})  # the browser always sends the button
    assert get_perms(outsider, queue) == []
    assert events("permission.revoked")


def test_a_group_can_hold_a_queue_permission(admin_web):
    queue = Queue.objects.create(slug="claims", name="Claims")
    group = Group.objects.create(name="claims-team")

    admin_web.post(
        reverse("admin:accounts_queue_permissions_manage_group", args=[queue.pk, group.pk]),
        {"permissions": ["review_queue"]},
    )

    assert get_perms(group, queue) == ["review_queue"]
    assert events("permission.granted")


def test_the_permissions_page_renders(admin_web):
    queue = Queue.objects.create(slug="claims", name="Claims")

    response = admin_web.get(reverse("admin:accounts_queue_permissions", args=[queue.pk]))

    assert response.status_code == 200


def test_adding_a_queue_is_audited(admin_web, admin):
    response = admin_web.post(
        reverse("admin:accounts_queue_add"), {"slug": "claims", "name": "Claims", "description": ""}
    )

    assert response.status_code == 302
    added = events("admin.added")[-1]
    assert added.object_id == str(Queue.objects.get(slug="claims").pk) and added.actor_id == str(admin.pk)


def test_deleting_a_queue_is_audited(admin_web):
    queue = Queue.objects.create(slug="old", name="Old")

    admin_web.post(reverse("admin:accounts_queue_delete", args=[queue.pk]), {"post": "yes"})

    assert not Queue.objects.filter(pk=queue.pk).exists()
    assert events("admin.deleted")[-1].object_id == str(queue.pk)


# --- users ----------------------------------------------------------------------------


def test_changing_roles_and_the_reviewer_profile_of_a_user(admin_web, outsider):
    profile = outsider.reviewer_profile
    url = reverse("admin:auth_user_change", args=[outsider.pk])
    page = admin_web.get(url)
    assert page.status_code == 200 and "reviewer_profile-0-licence_number" in page.content.decode()

    response = admin_web.post(
        url,
        {
            "username": "outsider",
            "first_name": "Out",
            "last_name": "Sider",
            "email": "",
            "roles": ["senior_reviewer"],
            "is_active": "on",
            "reviewer_profile-TOTAL_FORMS": "1",
            "reviewer_profile-INITIAL_FORMS": "1",
            "reviewer_profile-MIN_NUM_FORMS": "0",
            "reviewer_profile-MAX_NUM_FORMS": "1",
            "reviewer_profile-0-id": str(profile.pk),
            "reviewer_profile-0-user": str(outsider.pk),
            "reviewer_profile-0-licence_number": "LIC-NEW",
            "reviewer_profile-0-jurisdiction": "FR",
            "reviewer_profile-0-licence_expires_on": "",
            "reviewer_profile-0-authorization_level": "3",
            "reviewer_profile-0-departments": "[]",
        },
    )

    assert response.status_code == 302, response.content.decode()[:4000]
    outsider.refresh_from_db()
    assert set(outsider.groups.values_list("name", flat=True)) == {"senior_reviewer"}
    assert outsider.reviewer_profile.licence_number == "LIC-NEW"
    assert [e.data_record.canonical_data for e in events("role.granted")][-1].find("senior_reviewer") > 0
    assert events("role.revoked") and events("admin.changed")


def test_an_admin_password_change_is_audited(admin_web, outsider):
    response = admin_web.post(
        reverse("admin:auth_user_password_change", args=[outsider.pk]),
        {
            "password1": "another-long-passphrase-7",
            "password2": "another-long-passphrase-7",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert events("auth.password_changed")[-1].object_id == str(outsider.pk)


# --- read-only records -----------------------------------------------------------------


def test_decisions_cannot_be_added_changed_or_deleted(admin_web, reviewer, crm_change):
    decision = proposal_decide(
        proposal_id=crm_change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=PASSWORD
    )

    listing = admin_web.get(reverse("admin:proposals_decision_changelist"))
    add = admin_web.get(reverse("admin:proposals_decision_add"))
    change = admin_web.post(reverse("admin:proposals_decision_change", args=[decision.pk]), {"rationale": "forged"})
    delete = admin_web.post(reverse("admin:proposals_decision_delete", args=[decision.pk]), {"post": "yes"})

    assert listing.status_code == 200 and add.status_code == 403 and delete.status_code == 403
    assert change.status_code == 403
    assert Decision.objects.get(pk=decision.pk).rationale == "no"


def test_proposals_are_read_only_in_the_admin(admin_web, crm_change):
    page = admin_web.get(reverse("admin:proposals_proposal_change", args=[crm_change.pk]))

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_web.get(reverse("admin:proposals_proposal_add")).status_code == 403


def test_audit_events_are_read_only_in_the_admin(admin_web, crm_change):
    assert admin_web.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert admin_web.get(reverse("admin:audit_auditevent_add")).status_code == 403


@pytest.mark.parametrize(
    "model", ["proposals_signingbatch", "notifications_outboxmessage", "insights_recommendation", "accounts_apitoken"]
)
def test_records_kept_by_the_services_cannot_be_added_in_the_admin(admin_web, model):
    assert admin_web.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert admin_web.get(reverse(f"admin:{model}_add")).status_code == 403


def test_third_party_admins_are_audited_too(admin_web, client, reviewer):
    # given: a failed sign-in leaves an axes access attempt, which an admin deletes (unlocks)
    from axes.models import AccessAttempt

    client.post(reverse("login"), {"username": "reviewer", "password": "guess"})
    attempt = AccessAttempt.objects.get()
    # when
    admin_web.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    # then
    assert not AccessAttempt.objects.exists()
    deleted = events("admin.deleted")[-1]
    assert deleted.object_type == "axes.accessattempt" and deleted.object_id == str(attempt.pk)
