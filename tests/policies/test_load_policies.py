import pytest
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.policies.models import PolicyVersion
from apps.policies.services import policy_version_activate, policy_version_create
from hitlplatform.errors import Forbidden
from tests.conftest import TEST_POLICY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staffed(db):
    """Someone who may decide in every queue and tier of TEST_POLICY."""
    UserFactory(username="reviewer", role="reviewer", queues=["finance", "support"])
    UserFactory(
        username="senior_reviewer",
        role="senior_reviewer",
        queues=["finance", "finance-senior", "support-senior"],
        profile__level=3,
    )
    UserFactory(username="compliance_reviewer", role="senior_reviewer", queues=["compliance"])


def test_load_policies_creates_an_active_version_with_rules_in_order(tmp_path, staffed):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(TEST_POLICY)

    call_command("load_policies", str(policy_file))

    version = PolicyVersion.objects.get()
    assert version.status == PolicyVersion.Status.ACTIVE
    assert [rule.name for rule in version.rules.order_by("priority")][:2] == ["small-refunds", "refunds"]
    refunds = version.rules.get(name="refunds")
    assert refunds.sla.total_seconds() == 1800
    assert refunds.escalation == ["finance-senior", "compliance"]
    assert AuditEvent.objects.filter(action="policy.changed", object_id=str(version.pk)).exists()


def test_a_second_load_is_a_new_version_and_retires_the_first(tmp_path, staffed):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(TEST_POLICY)
    call_command("load_policies", str(policy_file))
    call_command("load_policies", str(policy_file))
    assert list(PolicyVersion.objects.order_by("number").values_list("number", "status")) == [
        (1, "retired"),
        (2, "active"),
    ]


@pytest.mark.parametrize(
    "bad_rule, message",
    [
        ("- {name: x, action_type: 'a.*', mode: sometimes}", "mode must be one of"),
        ("- {name: x, action_type: 'a.*', mode: autonomous, min_confidence: 2}", "min_confidence"),
        ("- {name: x, action_type: 'a.*', mode: pre_approval, sla: soon}", "not a duration"),
        ("- {name: x, action_type: 'a.*', mode: pre_approval, colour: red}", "Unknown keys"),
        ("- {name: x, action_type: 'a.*', mode: autonomous, when: {max_blast_radius: -1}}", "max_blast_radius"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_problem_and_writes_nothing(tmp_path, bad_rule, message):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"rules:\n  {bad_rule}\n")
    with pytest.raises(CommandError, match=message):
        call_command("load_policies", str(policy_file))
    assert not PolicyVersion.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_draft_must_be_activated_by_a_different_admin(admin):
    UserFactory(role="reviewer", queues=["default"])
    draft = policy_version_create(
        rules=[{"name": "all", "action_type": "*", "mode": "pre_approval"}], actor=admin, activate=False
    )
    with pytest.raises(Forbidden):
        policy_version_activate(version=draft, actor=admin)
    other_admin = UserFactory(username="other_admin", role="admin", is_superuser=True)
    policy_version_activate(version=draft, actor=other_admin)
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.ACTIVE and draft.activated_by == other_admin
