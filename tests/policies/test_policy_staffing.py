"""Staffing (DESIGN.md, Policies): a policy whose rule sends work to a queue or escalation tier
where nobody may decide is refused, naming rule, queue and why, unless accepted explicitly."""

import json
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.selectors import queue_deciders, queue_staffing_gap
from apps.audit.models import AuditEvent
from apps.policies.models import PolicyVersion
from apps.policies.selectors import policy_staffing_gaps
from apps.policies.services import policy_load_yaml, policy_version_activate, policy_version_create
from apps.proposals.services import ensure_may_decide
from hitlplatform.errors import InvalidInput
from tests.conftest import TEST_POLICY
from tests.factories import QueueFactory, UserFactory

pytestmark = pytest.mark.django_db

PAYOUTS = """
rules:
  - name: payouts
    action_type: "payments.payout"
    mode: pre_approval
    queue: finance
    escalation: [finance-senior, compliance]
"""


@pytest.fixture
def finance_staffed(db):
    UserFactory(username="rita", role="reviewer", queues=["finance"])
    UserFactory(username="sam", role="senior_reviewer", queues=["finance-senior"])


def test_an_unstaffed_escalation_tier_is_refused_naming_rule_queue_and_why(tmp_path, finance_staffed):
    # given: the compliance officer holds the last tier's permission, but may not decide
    UserFactory(username="carla", role="compliance_officer", queues=["compliance"])
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(PAYOUTS)

    # when / then
    with pytest.raises(CommandError) as refused:
        call_command("load_policies", str(policy_file))
    message = str(refused.value)
    assert "rule payouts, escalation tier 2 compliance" in message
    assert "no deciding role" in message
    assert "finance-senior" not in message
    assert not PolicyVersion.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="policy.").exists()


def test_allow_unstaffed_activates_with_a_warning_in_the_audit_trail(tmp_path, finance_staffed, capsys):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(PAYOUTS)

    call_command("load_policies", str(policy_file), "--allow-unstaffed")

    version = PolicyVersion.objects.get()
    assert version.status == PolicyVersion.Status.ACTIVE
    warning = AuditEvent.objects.get(action="policy.unstaffed_accepted")
    data = json.loads(warning.data_record.canonical_data)
    assert data["gaps"] == [
        {
            "rule": "payouts",
            "queue": "compliance",
            "tier": "escalation tier 2",
            "why": "no active user has the review permission of this queue",
        }
    ]
    assert "Warning: unstaffed, accepted: rule payouts, escalation tier 2 compliance" in capsys.readouterr().err


def test_activating_a_draft_is_refused_the_same_way(admin, finance_staffed):
    draft = policy_load_yaml(text=PAYOUTS, actor=admin, activate=False)  # a draft may wait for its staff
    other_admin = UserFactory(username="other_admin", role="admin", is_superuser=True)
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidInput) as refused:
        policy_version_activate(version=draft, actor=other_admin)

    assert "rules (payouts)" in refused.value.fields
    assert AuditEvent.objects.count() == events
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.DRAFT
    UserFactory(username="cleo", role="reviewer", queues=["compliance"])
    policy_version_activate(version=draft, actor=other_admin)
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.ACTIVE


def test_a_required_level_needs_a_reviewer_of_that_level_with_a_valid_licence(admin):
    UserFactory(username="junior", role="reviewer", queues=["contracts"], profile__level=2)
    rules = [{"name": "contracts", "action_type": "contracts.*", "mode": "pre_approval", "queue": "contracts"}]
    level_3 = [rules[0] | {"required_authorization_level": 3}]

    assert policy_staffing_gaps(rules) == []
    (gap,) = policy_staffing_gaps(level_3)
    assert gap.queue == "contracts" and "authorization level 3" in gap.why

    expired = UserFactory(username="lapsed", role="reviewer", queues=["contracts"], profile__level=3)
    expired.reviewer_profile.licence_expires_on = date.today() - timedelta(days=1)
    expired.reviewer_profile.save()
    assert len(policy_staffing_gaps(level_3)) == 1

    UserFactory(username="licensed", role="reviewer", queues=["contracts"], profile__level=3)
    assert policy_staffing_gaps(level_3) == []
    with pytest.raises(InvalidInput):
        policy_version_create(rules=[rules[0] | {"queue": "nobody"}], actor=admin, activate=True)


def test_autonomous_and_unsampled_rules_need_no_staff():
    rules = [
        {"name": "auto", "action_type": "a.*", "mode": "autonomous", "queue": "nobody"},
        {"name": "unsampled", "action_type": "b.*", "mode": "post_review", "queue": "nobody", "sample_rate": 0.0},
        {"name": "sampled", "action_type": "c.*", "mode": "post_review", "queue": "nobody", "sample_rate": 0.1},
    ]
    assert [gap.rule for gap in policy_staffing_gaps(rules)] == ["sampled"]


def test_a_group_grant_staffs_a_queue_and_an_inactive_user_does_not():
    from django.contrib.auth.models import Group

    from apps.accounts.services import queue_permission_grant

    queue = QueueFactory(slug="claims")
    team = Group.objects.get_or_create(name="claims-team")[0]
    queue_permission_grant(queue=queue, group=team)
    gone = UserFactory(username="gone", role="reviewer", is_active=False)
    gone.groups.add(team)
    assert queue_staffing_gap(queue=queue)

    member = UserFactory(username="member", role="reviewer")
    member.groups.add(team)
    assert queue_staffing_gap(queue=queue) == ""


def test_whoever_the_selector_counts_may_decide_there(submit, reviewer, senior_reviewer, outsider, compliance_officer):
    # the same test a decision applies: every counted user passes ensure_may_decide, others do not
    contract = submit(action_type="contracts.renew")  # finance, level 3
    counted = set(queue_deciders(queue=contract.queue, authorization_level=3))
    assert counted == {senior_reviewer}
    ensure_may_decide(proposal=contract, reviewer=senior_reviewer)
    for user in (reviewer, outsider, compliance_officer):
        with pytest.raises(Exception):
            ensure_may_decide(proposal=contract, reviewer=user)


def test_the_test_policy_is_staffed_by_the_cast(reviewer, senior_reviewer):
    UserFactory(username="compliance_reviewer", role="senior_reviewer", queues=["compliance"])
    assert policy_staffing_gaps(_rules(TEST_POLICY)) == []


def _rules(text):
    from apps.policies.definitions import policy_rules_from_yaml

    return policy_rules_from_yaml(text)
