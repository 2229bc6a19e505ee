"""The control matrix: every control names tests that pytest collects and returns a status, and
for each control a period where it is met and one where it is not (or needs attention)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import ReviewerProfile
from apps.agents.services import agent_suspend
from apps.audit import immutability
from apps.audit.models import AuditEvent
from apps.audit.services import audit_checkpoint_create, audit_record, audit_redact, audit_verification_record
from apps.policies.models import PolicyVersion
from apps.policies.services import policy_load_yaml, policy_version_activate, policy_version_create
from apps.proposals.models import Decision, Proposal, Status
from apps.proposals.retention import proposal_payloads_purge
from apps.reports.controls import CONTROLS, ControlStatus, controls_evaluate
from apps.reports.selectors import report_scope_build
from apps.review.services import proposal_view_record
from tests.factories import UserFactory, decide

pytestmark = pytest.mark.django_db

MET, ATTENTION, NOT_MET = ControlStatus.MET, ControlStatus.ATTENTION, ControlStatus.NOT_MET


def evidence(control_id: str):
    today = timezone.now().date()
    scope = report_scope_build(period_start=today, period_end=today)
    (result,) = [result for result in controls_evaluate(scope) if result.control.id == control_id]
    return result.evidence


def approval_written_directly(proposal, reviewer, **fields):
    """An approval row written behind the services' back: what the evidence must catch."""
    fields.setdefault("payload_version", proposal.payload_version)
    return Decision.objects.create(
        proposal=proposal, reviewer=reviewer, verdict="approve", signature_meaning="approved", **fields
    )


@pytest.fixture
def decided(submit, reviewer):
    """A record change submitted and approved by a licensed reviewer, through the services."""
    proposal = submit(action_type="crm.update")
    decide(proposal, reviewer)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def tamper(db):
    def run(*statements):
        with immutability.suspended(connection), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


# --- the matrix as a whole --------------------------------------------------------------------


def test_every_control_names_tests_that_pytest_collects():
    # given
    named = {node for control in CONTROLS for node in control.tests}
    files = sorted({node.split("::")[0] for node in named})
    # when
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    nodes = [line.strip() for line in collected.stdout.splitlines() if "::" in line]
    # then
    assert all(control.tests for control in CONTROLS)
    missing = [node for node in named if not any(line == node or line.startswith(node + "[") for line in nodes)]
    assert not missing, f"not collected: {missing}\n{collected.stdout[-2000:]}{collected.stderr[-2000:]}"


@pytest.mark.slow
def test_every_test_a_control_names_passes():
    # given the named tests, run in a pytest of their own (on a database of their own)
    named = sorted({node for control in CONTROLS for node in control.tests})
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    url = environment.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        environment["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1].split("?")[0] + "_controls"
    # when
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *named],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env=environment,
    )
    # then
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout


def test_every_control_has_an_evidence_function_returning_a_status(policy):
    # given
    today = timezone.now().date()
    # when
    results = controls_evaluate(report_scope_build(period_start=today, period_end=today))
    # then
    assert [result.control.id for result in results] == [control.id for control in CONTROLS]
    assert len({control.id for control in CONTROLS}) == len(CONTROLS) >= 21
    for result in results:
        assert result.evidence.status in ControlStatus.values, result.control.id
        assert result.evidence.reason and result.evidence.figures and result.evidence.links, result.control.id
        assert result.control.regulation and result.control.clause and result.control.requirement


def test_the_issue_lists_every_clause():
    clauses = {(control.regulation, control.clause) for control in CONTROLS}
    for expected in [
        ("21 CFR Part 11", "11.10(a)"),
        ("21 CFR Part 11", "11.10(b)"),
        ("21 CFR Part 11", "11.10(d), 11.10(g)"),
        ("21 CFR Part 11", "11.10(e)"),
        ("21 CFR Part 11", "11.10(f)"),
        ("21 CFR Part 11", "11.50"),
        ("21 CFR Part 11", "11.70"),
        ("21 CFR Part 11", "11.100(a)"),
        ("21 CFR Part 11", "11.200(a)"),
        ("21 CFR Part 11", "11.300(d)"),
        ("EU AI Act", "Art. 12"),
        ("EU AI Act", "Art. 14(4)(b)"),
        ("EU AI Act", "Art. 14(4)(d), 14(4)(e)"),
        ("EU AI Act", "Art. 14(5)"),
        ("EU AI Act", "Art. 19, 26(6)"),
        ("EU AI Act", "Art. 26(2)"),
        ("EU AI Act", "Art. 86"),
        ("GDPR", "Art. 17"),
        ("GDPR", "Art. 22"),
        ("HIPAA", "164.312(b)"),
        ("HIPAA", "164.312(c)(1)"),
        ("SOC 2", "CC8.1"),
    ]:
        assert expected in clauses


# --- behaviour the matrix names as proof -----------------------------------------------------


def test_a_username_cannot_belong_to_two_accounts(reviewer):
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create(username=reviewer.username)
    assert get_user_model().objects.filter(username=reviewer.username).count() == 1


def test_every_submission_and_decision_is_logged_automatically(decided, reviewer):
    # given a proposal submitted and decided through the services
    events = AuditEvent.objects.filter(object_type="proposals.proposal", object_id=str(decided.pk))
    # then each step left its event, with the actor, without anyone asking for it
    assert set(events.values_list("action", flat=True)) >= {"proposal.submitted", "decision.recorded"}
    assert events.get(action="decision.recorded").actor_id == str(reviewer.pk)
    assert evidence("AIA-12").figures["proposals_without_event"] == 0


# --- 21 CFR Part 11 ----------------------------------------------------------------------------


def test_11_10_a_met_after_a_recent_full_verification(decided):
    audit_verification_record()
    found = evidence("CFR11-10a")
    assert found.status == MET and found.figures["chain_intact"] is True


def test_11_10_a_needs_attention_without_a_full_verification(decided):
    found = evidence("CFR11-10a")
    assert found.status == ATTENTION and "No full verification" in found.reason


def test_11_10_a_not_met_when_a_record_was_altered(decided, tamper):
    tamper("UPDATE audit_event SET action = 'forged' WHERE seq = 2")
    found = evidence("CFR11-10a")
    assert found.status == NOT_MET and "fails verification at event 2" in found.reason
    assert found.figures["first_bad_seq"] == 2 and found.figures["chain_intact"] is False


def test_11_10_b_met_and_attention_when_a_report_failed(db):
    assert evidence("CFR11-10b").status == MET
    audit_record(action="report.failed", object_type="reports.report", object_id="1", data={"error": "OSError"})
    found = evidence("CFR11-10b")
    assert found.status == ATTENTION and "1 report(s) failed" in found.reason


def test_11_10_dg_met_when_reviewers_decide(decided):
    found = evidence("CFR11-10dg")
    assert found.status == MET and found.figures["decisions"] == 1


def test_11_10_dg_attention_after_a_lockout(decided):
    audit_record(action="auth.locked_out", data={"username": "reviewer", "ip": "127.0.0.1"})
    found = evidence("CFR11-10dg")
    assert found.status == ATTENTION and "1 account lockout(s)" in found.reason


def test_11_10_dg_not_met_when_an_agent_owner_signed(submit, agent_owner):
    # the services refuse it; a row written behind their back is what the evidence must catch
    proposal = submit(action_type="crm.update")
    approval_written_directly(proposal, agent_owner, rationale="mine", signer_name="Owner")
    found = evidence("CFR11-10dg")
    assert found.status == NOT_MET and "signed by the owner of the proposing agent" in found.reason


def test_11_10_e_met_when_every_decision_has_its_event(decided):
    found = evidence("CFR11-10e")
    assert found.status == MET and found.figures["missing_seq"] == 0 and found.figures["decisions_without_event"] == 0


def test_11_10_e_attention_for_a_decision_without_its_event(decided, reviewer):
    decision = decided.decisions.get()
    approval_written_directly(
        decided,
        reviewer,
        rationale="again",
        payload_version=decision.payload_version,
        signer_name=decision.signer_name,
        signed_at=decision.signed_at,
    )
    found = evidence("CFR11-10e")
    assert found.status == ATTENTION and "1 decision(s) of the period have no" in found.reason


def test_11_10_e_not_met_when_an_event_is_missing(decided, tamper):
    tamper("DELETE FROM audit_event_data WHERE seq = 3", "DELETE FROM audit_event WHERE seq = 3")
    found = evidence("CFR11-10e")
    assert found.status == NOT_MET and "1 sequence number(s) are missing" in found.reason


def test_11_10_f_met_and_not_met_for_a_decision_after_the_final_state(decided):
    assert evidence("CFR11-10f").status == MET
    Proposal.objects.filter(pk=decided.pk).update(decided_at=decided.decided_at - timedelta(minutes=5))
    found = evidence("CFR11-10f")
    assert found.status == NOT_MET and "after their proposal was final" in found.reason


def test_11_50_met_and_not_met_without_the_printed_name(decided):
    assert evidence("CFR11-50").status == MET
    Decision.objects.filter(proposal=decided).update(signer_name="")
    found = evidence("CFR11-50")
    assert found.status == NOT_MET and "lack the printed name or the meaning" in found.reason


def test_11_70_met_and_not_met_without_the_payload_version(decided):
    assert evidence("CFR11-70").status == MET
    Decision.objects.filter(proposal=decided).update(payload_version="")
    found = evidence("CFR11-70")
    assert found.status == NOT_MET and "payload version" in found.reason


def test_11_100_met_and_attention_when_two_accounts_share_a_printed_name(submit, decided, reviewer):
    assert evidence("CFR11-100").status == MET
    twin = UserFactory(
        username="twin",
        role="reviewer",
        queues=["support"],
        first_name=reviewer.first_name,
        last_name=reviewer.last_name,
    )
    decide(submit(action_type="crm.update"), twin)
    found = evidence("CFR11-100")
    assert found.status == ATTENTION and found.figures["shared_printed_names"] == 1


def test_11_200_a_met_and_attention_with_a_long_idle_timeout(decided, settings):
    assert evidence("CFR11-200a").status == MET
    settings.SESSION_IDLE_TIMEOUT = 8 * 3600
    found = evidence("CFR11-200a")
    assert found.status == ATTENTION and "28800 seconds" in found.reason


def test_11_300_d_counts_failed_signatures_and_needs_attention_on_a_signing_lockout(reviewer):
    # given failed signatures: recorded, but no lockout yet
    for _ in range(2):
        audit_record(action="auth.signature_failed", actor=reviewer, obj=reviewer, data={"username": "reviewer"})
    found = evidence("CFR11-300d")
    assert found.status == MET and found.figures["failed_signatures"] == 2
    # when signing is locked
    audit_record(action="auth.signing_locked", actor=reviewer, obj=reviewer, data={"username": "reviewer"})
    # then
    found = evidence("CFR11-300d")
    assert found.status == ATTENTION and "1 signature lockout(s)" in found.reason
    assert found.figures["signing_lockouts"] == 1


# --- EU AI Act ---------------------------------------------------------------------------------


def test_art_12_met_and_not_met_for_a_proposal_never_logged(decided, agent):
    assert evidence("AIA-12").status == MET
    Proposal.objects.create(
        agent=agent, action_type="crm.update", payload={}, payload_version="0" * 64, confidence=0.5, mode="autonomous"
    )
    found = evidence("AIA-12")
    assert found.status == NOT_MET and "1 proposal(s) of the period have no" in found.reason


def test_art_14_4_b_met_and_attention_for_quick_decisions(submit, decided, reviewer):
    assert evidence("AIA-14-4b").status == MET
    proposal = submit(action_type="crm.update")
    proposal_view_record(proposal=proposal, user=reviewer)  # the first look, then a signature seconds later
    decide(proposal, reviewer)
    found = evidence("AIA-14-4b")
    assert found.status == ATTENTION and "within seconds of the first look" in found.reason
    assert found.figures["quick_decisions"] == 1 and found.figures["quick_decision_rate"] == 0.5


def test_art_14_4_de_met_and_not_met_when_a_suspended_agent_got_through(submit, reviewer, agent, admin):
    proposal = submit(action_type="crm.update")
    decide(proposal, reviewer, verdict="reject")
    agent_suspend(agent=agent, reason="drift", actor=admin)
    found = evidence("AIA-14-4de")
    assert found.status == MET and found.figures["overrides"] == 1 and found.figures["agent_suspensions"] == 1
    # a suspension that started before a submission the services let through
    agent.refresh_from_db()
    type(agent).objects.filter(pk=agent.pk).update(suspended_at=proposal.created_at - timedelta(minutes=1))
    found = evidence("AIA-14-4de")
    assert found.status == NOT_MET and "while their agent was suspended" in found.reason


def test_art_14_5_met_and_not_met_with_one_approver(submit, reviewer, second_reviewer):
    payout = submit(action_type="payments.payout")
    decide(payout, reviewer)
    decide(payout, second_reviewer)
    assert evidence("AIA-14-5").status == MET
    single = submit(action_type="payments.payout")
    decide(single, reviewer)
    Proposal.objects.filter(pk=single.pk).update(status=Status.APPROVED, approved_by="human")
    found = evidence("AIA-14-5")
    assert found.status == NOT_MET and found.figures == {"four_eyes_items": 2, "under_approved": 1}


def test_art_19_26_6_met_and_not_met_with_a_short_retention(db, settings):
    assert evidence("AIA-19-26-6").status == MET
    settings.AUDIT_MIN_RETENTION_DAYS = 30
    found = evidence("AIA-19-26-6")
    assert found.status == NOT_MET and "set to 30 days" in found.reason


def test_art_19_26_6_not_met_when_payloads_were_purged_too_early(decided, settings):
    # given a purge run while the minimum retention was (wrongly) zero
    settings.AUDIT_MIN_RETENTION_DAYS = 0
    Proposal.objects.filter(pk=decided.pk).update(created_at=timezone.now() - timedelta(days=10))
    proposal_payloads_purge(before=timezone.localdate(), reason="cleanup")
    settings.AUDIT_MIN_RETENTION_DAYS = 183
    # when
    found = evidence("AIA-19-26-6")
    # then
    assert found.status == NOT_MET and "purged less than six months after submission" in found.reason
    assert found.figures["purged_too_early"] == 1 and found.figures["purge_runs"] == 1


def test_art_26_2_met_attention_without_licence_and_not_met_with_an_expired_one(submit, decided, reviewer):
    assert evidence("AIA-26-2").status == MET
    ReviewerProfile.objects.filter(user=reviewer).update(licence_number="")
    found = evidence("AIA-26-2")
    assert found.status == ATTENTION and "without a recorded licence" in found.reason
    # the rule of record changes asks for no level, so the services let an expired licence sign
    ReviewerProfile.objects.filter(user=reviewer).update(
        licence_number="LIC-1", licence_expires_on=timezone.now().date() - timedelta(days=1)
    )
    decide(submit(action_type="crm.update"), reviewer)
    found = evidence("AIA-26-2")
    assert found.status == NOT_MET and found.figures["decisions_with_expired_licence"] == 2


def test_art_86_met_attention_and_not_met(decided):
    assert evidence("AIA-86").status == MET
    Proposal.objects.filter(pk=decided.pk).update(routing={})
    assert evidence("AIA-86").status == ATTENTION
    Decision.objects.filter(proposal=decided).update(rationale="")
    found = evidence("AIA-86")
    assert found.status == NOT_MET and "have no rationale" in found.reason


# --- GDPR ----------------------------------------------------------------------------------------


def test_art_17_met_after_a_redaction_and_not_met_after_an_unrecorded_erasure(decided, tamper):
    audit_redact(seq=2, reason="erasure request 17-1")
    found = evidence("GDPR-17")
    assert found.status == MET and found.figures["redactions"] == 1 and found.figures["redacted_total"] == 1
    tamper("DELETE FROM audit_event_data WHERE seq = 3")
    found = evidence("GDPR-17")
    assert found.status == NOT_MET and "fails verification at event 3" in found.reason


def test_art_22_met_and_attention_when_high_risk_runs_without_a_human(decided, agent):
    from apps.proposals.services import proposal_submit
    from tests.conftest import proposal_body

    assert evidence("GDPR-22").status == MET
    policy_load_yaml(
        text='rules:\n  - name: mail\n    action_type: "mail.*"\n    mode: autonomous\n', comment="everything goes"
    )
    proposal_submit(agent=agent, fields=proposal_body(action_type="mail.send", compliance_exposure="high"))
    found = evidence("GDPR-22")
    assert found.status == ATTENTION and "ran without a human" in found.reason


# --- HIPAA ---------------------------------------------------------------------------------------


def test_164_312_b_attention_until_the_trail_is_verified_in_the_period(decided):
    assert evidence("HIPAA-312b").status == ATTENTION
    audit_verification_record()
    found = evidence("HIPAA-312b")
    assert found.status == MET and found.figures["full_verifications"] == 1


def test_164_312_c_met_attention_and_not_met(decided, tamper):
    audit_checkpoint_create()
    assert evidence("HIPAA-312c").status == MET
    audit_record(action="proposal.viewed", data={"n": 1})
    found = evidence("HIPAA-312c")
    assert found.status == ATTENTION and "No signed checkpoint covers" in found.reason
    tamper("UPDATE audit_event_data SET canonical_data = '{}' WHERE seq = 2")
    assert evidence("HIPAA-312c").status == NOT_MET


# --- SOC 2 ---------------------------------------------------------------------------------------

RULES = [{"name": "all", "action_type": "*", "mode": "pre_approval"}]


def test_cc8_1_met_when_a_second_admin_activates(admin):
    draft = policy_version_create(rules=RULES, actor=admin, comment="draft")
    policy_version_activate(
        version=draft, actor=UserFactory(username="admin2", role="admin", is_staff=True), allow_unstaffed=True
    )
    found = evidence("SOC2-CC8.1")
    assert found.status == MET and found.figures["policy_activations"] == 1


def test_cc8_1_attention_for_a_command_line_activation(policy):
    found = evidence("SOC2-CC8.1")
    assert found.status == ATTENTION and "from the command line" in found.reason


def test_cc8_1_not_met_when_the_author_activated_it(admin):
    policy_version_create(rules=RULES, actor=admin, comment="mine", activate=True, allow_unstaffed=True)
    found = evidence("SOC2-CC8.1")
    assert found.status == NOT_MET and "activated by their own author" in found.reason
    assert PolicyVersion.objects.get().activated_by == admin


# --- the period scan -------------------------------------------------------------------------------


def test_a_period_holding_most_proposals_is_scanned_and_a_narrow_one_uses_the_index(submit):
    from apps.reports.scans import period_filter

    # given proposals of today and many of a month ago
    today = [submit(action_type="crm.update") for _ in range(2)]
    old = [submit(action_type="crm.update") for _ in range(10)]
    Proposal.objects.filter(pk__in=[p.pk for p in old]).update(created_at=timezone.now() - timedelta(days=30))
    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    # when
    narrow = period_filter(Proposal.objects.all(), field="created_at", since=day, until=day + timedelta(days=1))
    wide = period_filter(
        Proposal.objects.all(), field="created_at", since=day - timedelta(days=40), until=day + timedelta(days=1)
    )
    # then the same rows as a plain filter, read the cheaper way on SQLite
    assert set(narrow.values_list("pk", flat=True)) == {p.pk for p in today}
    assert wide.count() == 12
    if connection.vendor == "sqlite":
        assert '+"proposals_proposal"."created_at"' in str(wide.query)
        assert '+"proposals_proposal"."created_at"' not in str(narrow.query)
