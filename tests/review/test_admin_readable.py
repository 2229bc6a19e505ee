"""The admin pages an administrator reads: policy YAML as written, rules in words, a humane
permission form, and a user's queues on the user's page."""

import pytest
from django.urls import reverse

from apps.accounts.models import Queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(web_client_for, admin):
    return web_client_for(admin)


def test_a_policy_version_shows_its_yaml_indented_and_its_rules_in_words(admin_web, policy):
    page = admin_web.get(reverse("admin:policies_policyversion_change", args=[policy.pk])).content.decode()

    assert page.count("Source (YAML)") == 1 and '<pre class="policy-yaml">' in page
    assert "\n  - name: refunds\n    action_type: &quot;payments.*&quot;" in page
    assert "2 approvals in finance" in page and "within 30 minutes" in page
    assert "finance-senior → compliance, then on expiry: Reject" in page
    assert "Compliance exposure none or low" in page
    assert '{"irreversible"' not in page and "[&quot;finance-senior&quot;" not in page


def test_a_policy_versions_rules_read_in_the_admins_language(admin_web, policy):
    # The same words as the review app's rule trace: no `30m` and no raw exposure levels in German.
    url = reverse("admin:policies_policyversion_change", args=[policy.pk])

    page = admin_web.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Compliance-Risiko keine oder niedrig" in page and "innerhalb von 30 Minuten" in page
    assert "none or low" not in page and "30m<" not in page


def test_the_permission_form_explains_an_unknown_username(admin_web):
    queue = Queue.objects.create(slug="claims", name="Claims")

    response = admin_web.post(
        reverse("admin:accounts_queue_permissions", args=[queue.pk]), {"user": "nobody", "submit_manage_user": "1"}
    )

    page = response.content.decode()
    assert "No user has this username" in page
    assert "USERNAME_FIELD" not in page


def test_a_users_page_lists_the_queues_they_review(admin_web, reviewer):
    page = admin_web.get(reverse("admin:auth_user_change", args=[reviewer.pk])).content.decode()

    assert "May review proposals in" in page
    assert ">finance</a>" in page and ">support</a>" in page
