"""The control matrix: each regulatory requirement the platform answers, as data.

A control names its regulation and clause, states the requirement in the platform's words,
says how the platform meets it, names its evidence function (part11.py, ai_act.py,
privacy_security.py: the live figures of a period) and the tests that prove the behaviour.
Issue 18 asks for the controls as data in one table, which an auditor reads top to bottom.
"""

from django.utils.translation import gettext_lazy

from .ai_act import (
    evidence_automatic_logging,
    evidence_automation_bias,
    evidence_explanation,
    evidence_four_eyes,
    evidence_log_retention,
    evidence_named_competent_people,
    evidence_override_and_stop,
)
from .part11 import (
    evidence_access_checks,
    evidence_altered_records,
    evidence_audit_trail,
    evidence_copies,
    evidence_sequencing,
    evidence_signature_components,
    evidence_signature_link,
    evidence_signature_manifestation,
    evidence_unauthorized_use,
    evidence_unique_signatures,
)
from .privacy_security import (
    evidence_audit_controls,
    evidence_change_management,
    evidence_erasure,
    evidence_human_involvement,
    evidence_integrity,
)
from .types import Control

CFR11 = "21 CFR Part 11"
AI_ACT = "EU AI Act"
GDPR = "GDPR"
HIPAA = "HIPAA"
SOC2 = "SOC 2"

CONTROLS: tuple[Control, ...] = (
    Control(
        id="CFR11-10a",
        regulation=CFR11,
        clause="11.10(a)",
        requirement=gettext_lazy("The system can discern invalid or altered records."),
        implementation=gettext_lazy(
            "Every event is hash-chained and its data salted and hashed; verification re-hashes the chain "
            "and names the first altered event; signed Merkle checkpoints pin its state."
        ),
        evidence=evidence_altered_records,
        tests=(
            "tests/audit/test_audit_verify.py::test_changed_data_is_named_by_seq",
            "tests/audit/test_audit_verify.py::test_rewritten_event_with_recomputed_hash_breaks_the_next_link",
        ),
    ),
    Control(
        id="CFR11-10b",
        regulation=CFR11,
        clause="11.10(b)",
        requirement=gettext_lazy("Accurate and complete copies of records in human-readable and electronic form."),
        implementation=gettext_lazy(
            "Signed PDF/A-3 reports embed every decision and audit event of the period as JSON Lines; "
            "CSV and JSONL exports stream any period."
        ),
        evidence=evidence_copies,
        tests=(
            "tests/reports/test_report_pdf.py::test_the_attachments_hold_every_decision_and_audit_event_of_the_period",
            "tests/reports/test_exports_api.py::test_decisions_csv_has_a_row_per_decision",
        ),
    ),
    Control(
        id="CFR11-10dg",
        regulation=CFR11,
        clause="11.10(d), 11.10(g)",
        requirement=gettext_lazy("Access is limited to authorized individuals, and authority is checked."),
        implementation=gettext_lazy(
            "Roles and per-queue object permissions decide who sees and decides what; nobody decides for an "
            "agent they own; repeated failed sign-ins lock the account."
        ),
        evidence=evidence_access_checks,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_the_owner_of_the_agent_may_not_decide",
            "tests/proposals/test_proposal_decide.py::test_a_reviewer_without_the_queue_gets_not_found",
            "tests/proposals/test_proposal_decide.py::test_a_compliance_officer_may_look_but_not_decide",
            "tests/review/test_auth.py::test_five_failures_lock_the_account_and_the_lockout_is_audited",
        ),
    ),
    Control(
        id="CFR11-10e",
        regulation=CFR11,
        clause="11.10(e)",
        requirement=gettext_lazy(
            "Secure, computer-generated, time-stamped audit trails; changes do not obscure what was recorded."
        ),
        implementation=gettext_lazy(
            "Each change writes its event in the same transaction; the database refuses updates and deletes "
            "of events; sequence numbers are gapless."
        ),
        evidence=evidence_audit_trail,
        tests=(
            "tests/audit/test_audit_record.py::test_each_event_links_to_the_previous_one_gaplessly",
            "tests/audit/test_audit_record.py::test_event_rolls_back_with_the_callers_transaction",
            "tests/audit/test_immutability.py::test_the_orm_cannot_change_or_delete_an_event_either",
        ),
    ),
    Control(
        id="CFR11-10f",
        regulation=CFR11,
        clause="11.10(f)",
        requirement=gettext_lazy("Operational checks enforce the permitted sequencing of steps."),
        implementation=gettext_lazy(
            "A state machine decides each proposal: final states never change, a reject ends the approvals, "
            "a modification restarts them."
        ),
        evidence=evidence_sequencing,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_a_final_proposal_cannot_be_decided_again",
            "tests/proposals/test_proposal_decide.py::test_any_reject_ends_it",
        ),
    ),
    Control(
        id="CFR11-50",
        regulation=CFR11,
        clause="11.50",
        requirement=gettext_lazy("Signed records show the signer's printed name, the date and time, and the meaning."),
        implementation=gettext_lazy(
            "Each decision stores the printed name, the instant and the meaning (approved, rejected, ...); "
            "reports list them per reviewer."
        ),
        evidence=evidence_signature_manifestation,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_each_decision_records_the_signature_manifestation",
            "tests/reports/test_report_pdf.py::test_sign_offs_name_each_reviewer_with_licence_and_meanings",
        ),
    ),
    Control(
        id="CFR11-70",
        regulation=CFR11,
        clause="11.70",
        requirement=gettext_lazy("Signatures are linked to their records so they cannot be transferred."),
        implementation=gettext_lazy(
            "A signature names the hash of the payload version it approves; a decision on a stale version is refused."
        ),
        evidence=evidence_signature_link,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_a_stale_payload_version_is_a_conflict",
            "tests/proposals/test_proposal_decide.py::test_a_modification_starts_the_count_again",
        ),
    ),
    Control(
        id="CFR11-100",
        regulation=CFR11,
        clause="11.100(a)",
        requirement=gettext_lazy("Each electronic signature is unique to one individual and never reassigned."),
        implementation=gettext_lazy(
            "Signatures belong to personal accounts with unique usernames; accounts are deactivated, never "
            "renamed for someone else."
        ),
        evidence=evidence_unique_signatures,
        tests=(
            "tests/reports/test_controls.py::test_a_username_cannot_belong_to_two_accounts",
            "tests/proposals/test_proposal_decide.py::test_second_approval_by_same_reviewer_is_refused",
        ),
    ),
    Control(
        id="CFR11-200a",
        regulation=CFR11,
        clause="11.200(a)",
        requirement=gettext_lazy(
            "Signatures use two distinct identification components; sessions follow the signing rules."
        ),
        implementation=gettext_lazy(
            "Signing re-enters the password of the signed-in user (username and password); idle sessions time out."
        ),
        evidence=evidence_signature_components,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_a_wrong_password_writes_nothing",
            "tests/review/test_auth.py::test_an_idle_session_times_out",
        ),
    ),
    Control(
        id="CFR11-300d",
        regulation=CFR11,
        clause="11.300(d)",
        requirement=gettext_lazy("Attempts at unauthorized use are detected and reported."),
        implementation=gettext_lazy(
            "Failed sign-ins, lockouts, failed signatures and signature lockouts are audit events; this "
            "matrix counts them."
        ),
        evidence=evidence_unauthorized_use,
        tests=(
            "tests/review/test_auth.py::test_a_failed_sign_in_is_audited_without_the_password",
            "tests/review/test_auth.py::test_five_failures_lock_the_account_and_the_lockout_is_audited",
        ),
    ),
    Control(
        id="AIA-12",
        regulation=AI_ACT,
        clause="Art. 12",
        requirement=gettext_lazy("Events are logged automatically over the lifetime of the system."),
        implementation=gettext_lazy(
            "Every submission, routing, decision, escalation and execution is logged by the service that makes "
            "it, in the same transaction."
        ),
        evidence=evidence_automatic_logging,
        tests=(
            "tests/reports/test_controls.py::test_every_submission_and_decision_is_logged_automatically",
            "tests/audit/test_audit_record.py::test_event_rolls_back_with_the_callers_transaction",
        ),
    ),
    Control(
        id="AIA-14-4b",
        regulation=AI_ACT,
        clause="Art. 14(4)(b)",
        requirement=gettext_lazy("Overseers stay aware of automation bias."),
        implementation=gettext_lazy(
            "Insights measure time on item and flag quick decisions and reviewers who approve almost "
            "everything; QA samples decisions for a second look."
        ),
        evidence=evidence_automation_bias,
        tests=(
            "tests/insights/test_figures.py::test_quick_decisions_after_viewing",
            "tests/insights/test_figures.py::test_reviewer_figures_flag_a_rubber_stamp_over_a_large_sample",
        ),
    ),
    Control(
        id="AIA-14-4de",
        regulation=AI_ACT,
        clause="Art. 14(4)(d), 14(4)(e)",
        requirement=gettext_lazy("Overseers can disregard or reverse an output, and stop the system."),
        implementation=gettext_lazy(
            "Reviewers reject or modify proposals and flag executed actions; suspending an agent refuses its "
            "submissions and blocks approval of its pending proposals."
        ),
        evidence=evidence_override_and_stop,
        tests=(
            "tests/agents/test_agent_suspension.py::test_a_suspended_agent_cannot_submit",
            "tests/agents/test_agent_suspension.py::test_pending_proposals_of_a_suspended_agent_cannot_be_approved_until_resumed",
            "tests/proposals/test_proposal_decide.py::test_any_reject_ends_it",
        ),
    ),
    Control(
        id="AIA-14-5",
        regulation=AI_ACT,
        clause="Art. 14(5)",
        requirement=gettext_lazy("Separate verification and confirmation by at least two competent persons."),
        implementation=gettext_lazy(
            "A rule may require several approvals by distinct reviewers of the same payload version; one "
            "person cannot approve twice."
        ),
        evidence=evidence_four_eyes,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_two_distinct_approvals_approve_the_proposal",
            "tests/proposals/test_proposal_decide.py::test_second_approval_by_same_reviewer_is_refused",
        ),
    ),
    Control(
        id="AIA-19-26-6",
        regulation=AI_ACT,
        clause="Art. 19, 26(6)",
        requirement=gettext_lazy("Logs are kept for at least six months."),
        implementation=gettext_lazy(
            "No code path deletes audit events; a payload purge refuses anything younger than the minimum "
            "retention and is itself audited."
        ),
        evidence=evidence_log_retention,
        tests=(
            "tests/proposals/test_purge_payloads.py::test_purge_refuses_anything_younger_than_the_minimum_retention",
            "tests/proposals/test_purge_payloads.py::test_purge_empties_old_final_payloads_keeps_pending_ones_and_is_audited",
        ),
    ),
    Control(
        id="AIA-26-2",
        regulation=AI_ACT,
        clause="Art. 26(2)",
        requirement=gettext_lazy("Oversight is assigned to named people with the competence and authority."),
        implementation=gettext_lazy(
            "Reviewers have profiles with licence, expiry and authorization level; rules may require a level, "
            "and an expired licence may not decide there."
        ),
        evidence=evidence_named_competent_people,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_an_expired_licence_may_not_decide_where_the_rule_asks",
            "tests/proposals/test_proposal_decide.py::test_the_rule_can_require_an_authorization_level",
        ),
    ),
    Control(
        id="AIA-86",
        regulation=AI_ACT,
        clause="Art. 86",
        requirement=gettext_lazy("A clear explanation of the role of the system in each decision."),
        implementation=gettext_lazy(
            "Each proposal stores its routing explanation (policy version, rule, every condition evaluated) and "
            "each decision its rationale."
        ),
        evidence=evidence_explanation,
        tests=(
            "tests/policies/test_routing.py::test_router_never_raises_and_always_explains",
            "tests/proposals/test_proposal_api.py::test_bad_decisions_get_400_and_write_nothing",
        ),
    ),
    Control(
        id="GDPR-17",
        regulation=GDPR,
        clause="Art. 17",
        requirement=gettext_lazy("Personal data can be erased without breaking the audit trail."),
        implementation=gettext_lazy(
            "An event's salted data can be erased by a recorded redaction; the chain commits to the data "
            "hash only, so it still verifies."
        ),
        evidence=evidence_erasure,
        tests=(
            "tests/audit/test_audit_redact.py::test_a_redacted_chain_still_verifies_and_reports_the_redaction",
            "tests/audit/test_audit_verify.py::test_data_deleted_without_redaction_is_named_by_seq",
        ),
    ),
    Control(
        id="GDPR-22",
        regulation=GDPR,
        clause="Art. 22",
        requirement=gettext_lazy("Decisions with legal or similar effect involve a human meaningfully."),
        implementation=gettext_lazy(
            "Policies route by risk; no matching rule or low confidence means human pre-approval, and "
            "post-review samples autonomous actions."
        ),
        evidence=evidence_human_involvement,
        tests=(
            "tests/policies/test_routing.py::test_no_matching_rule_means_pre_approval",
            "tests/policies/test_routing.py::test_confidence_below_the_rule_minimum_requires_approval",
        ),
    ),
    Control(
        id="HIPAA-312b",
        regulation=HIPAA,
        clause="164.312(b)",
        requirement=gettext_lazy("Mechanisms record and examine activity in systems holding the information."),
        implementation=gettext_lazy(
            "Sign-ins, views, decisions and exports are audit events; a nightly task verifies the whole trail; "
            "compliance pages and reports examine it."
        ),
        evidence=evidence_audit_controls,
        tests=(
            "tests/review/test_auth.py::test_signing_in_lands_on_the_queue_and_is_audited",
            "tests/audit/test_audit_record.py::test_each_event_links_to_the_previous_one_gaplessly",
        ),
    ),
    Control(
        id="HIPAA-312c",
        regulation=HIPAA,
        clause="164.312(c)(1)",
        requirement=gettext_lazy("Information is protected from improper alteration or destruction."),
        implementation=gettext_lazy(
            "The database refuses updates and deletes of the audit tables; the hash chain and signed "
            "checkpoints reveal any alteration."
        ),
        evidence=evidence_integrity,
        tests=(
            "tests/audit/test_immutability.py::test_the_orm_cannot_change_or_delete_an_event_either",
            "tests/audit/test_audit_verify.py::test_changed_data_is_named_by_seq",
        ),
    ),
    Control(
        id="SOC2-CC8.1",
        regulation=SOC2,
        clause="CC8.1",
        requirement=gettext_lazy("Changes are authorized, approved and recorded."),
        implementation=gettext_lazy(
            "Every policy change is a new audited version; a draft must be activated by a different "
            "administrator than its author."
        ),
        evidence=evidence_change_management,
        tests=("tests/policies/test_load_policies.py::test_a_draft_must_be_activated_by_a_different_admin",),
    ),
)
