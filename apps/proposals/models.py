from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Queue
from apps.agents.models import Agent
from apps.policies.models import ComplianceExposure, Mode, PolicyRule, PolicyVersion


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_STATUSES = (Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED, Status.EXPIRED, Status.CANCELLED)


class ApprovedBy(models.TextChoices):
    HUMAN = "human", _("Human")
    POLICY = "policy", _("Policy")


class Verdict(models.TextChoices):
    APPROVE = "approve", _("Approve")
    MODIFY = "modify", _("Modify")
    REJECT = "reject", _("Reject")
    ESCALATE = "escalate", _("Escalate")
    # The "redirect" of human-in-the-loop: back to the agent with instructions for a revision.
    REQUEST_CHANGES = "request_changes", _("Request changes")


# 21 CFR 11.50: each signature states its meaning.
SIGNATURE_MEANINGS = {
    Verdict.APPROVE: "approved",
    Verdict.MODIFY: "approved with modifications",
    Verdict.REJECT: "rejected",
    Verdict.ESCALATE: "reviewed and escalated",
    Verdict.REQUEST_CHANGES: "reviewed, changes requested",
}


class ReviewState(models.TextChoices):
    NOT_SAMPLED = "not_sampled", _("Not sampled")
    QUEUED = "queued", _("Queued for review")
    CONFIRMED = "confirmed", _("Confirmed")
    FLAGGED = "flagged", _("Flagged")


class ExecutionStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Proposal(models.Model):
    # agent and queue have no index of their own: the composite indexes below lead with them and
    # serve every lookup, and each index is one more write on every submission.
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="proposals", db_index=False)
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    action_type = models.CharField(_("action type"), max_length=200)
    payload = models.JSONField(_("payload"))
    # What the agent proposed stays as it was; a reviewer's modification is the revised payload.
    revised_payload = models.JSONField(_("revised payload"), null=True, blank=True)
    payload_version = models.CharField(_("payload version"), max_length=64, help_text=_("Of the current payload."))
    final_payload = models.JSONField(_("final payload"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    reasoning = models.TextField(_("reasoning"), blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    confidence = models.FloatField(_("confidence"))
    irreversible = models.BooleanField(_("irreversible"), default=False)
    blast_radius = models.PositiveIntegerField(_("blast radius"), default=0)
    compliance_exposure = models.CharField(
        _("compliance exposure"), max_length=8, choices=ComplianceExposure.choices, default=ComplianceExposure.NONE
    )
    expected_impact = models.TextField(_("expected impact"), blank=True)
    callback_url = models.URLField(_("callback URL"), blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    approved_by = models.CharField(_("approved by"), max_length=8, choices=ApprovedBy.choices, blank=True)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    policy_rule = models.ForeignKey(PolicyRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    routing = models.JSONField(_("routing"), default=dict)
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, null=True, blank=True, related_name="proposals", db_index=False
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    remind_at = models.DateTimeField(_("reminder due"), null=True, blank=True)
    # on_expiry "approve": approved by policy because nobody decided in time, never a human approval.
    approved_on_expiry = models.BooleanField(_("approved on expiry"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    # Retention (EU AI Act Art. 19/26(6)): after the minimum period the content may be purged;
    # the audit trail keeps its hashes, so the record of oversight stays verifiable.
    payload_purged_at = models.DateTimeField(_("payload purged at"), null=True, blank=True)

    execution_status = models.CharField(_("execution"), max_length=16, choices=ExecutionStatus.choices, blank=True)
    execution_detail = models.JSONField(_("execution detail"), null=True, blank=True)
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)

    # Redirect and revisions (DESIGN.md, Revisions): the reviewer's instructions end this proposal;
    # the agent's revision is a new proposal chained to it. `revision_root` is the chain's first
    # proposal (null on that one), so a whole thread is one indexed lookup.
    instructions = models.TextField(_("instructions"), blank=True)
    revision = models.PositiveSmallIntegerField(_("revision"), default=0)
    revision_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("revision of")
    )
    revised_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("revised by")
    )
    revision_root = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("first of thread")
    )

    # Claims (DESIGN.md, Claims): who is working on a pending proposal, until when. An expired
    # claim is no claim; nothing needs to clear it.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("claimed by"),
    )
    claim_expires_at = models.DateTimeField(_("claim expires at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [
            models.Index(fields=["status", "sla_due_at"], name="proposal_status_due"),
            models.Index(fields=["status", "remind_at"], name="proposal_status_remind"),
            models.Index(fields=["queue", "status", "sla_due_at"], name="proposal_queue_status_due"),
            models.Index(fields=["agent", "-created_at"], name="proposal_agent_created"),
            models.Index(fields=["created_at"], name="proposal_created"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action_type}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def current_payload(self):
        return self.payload if self.revised_payload is None else self.revised_payload

    @property
    def modified(self) -> bool:
        return self.revised_payload is not None

    def claim_holder_id(self, now=None) -> int | None:
        """The claimant's user id while the claim lasts; None when unclaimed or expired."""
        if self.claimed_by_id is None or self.claim_expires_at is None:
            return None
        return self.claimed_by_id if self.claim_expires_at > (now or timezone.now()) else None


class SigningBatch(models.Model):
    """One signing of several decisions (21 CFR 11.200(a)(1)(i)): the password entered once, in one
    continuous session; each decision of it records the batch."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices)
    rationale = models.TextField(_("rationale"))
    size = models.PositiveIntegerField(_("proposals"))
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)

    class Meta:
        verbose_name = _("signing batch")
        verbose_name_plural = _("signing batches")

    def __str__(self):
        return f"batch {self.pk} ({self.size})"


class Decision(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices)
    rationale = models.TextField(_("rationale"))
    payload = models.JSONField(_("modified payload"), null=True, blank=True)
    payload_version = models.CharField(_("payload version decided"), max_length=64)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # The signature manifestation (21 CFR 11.50): printed name, instant, meaning.
    signer_name = models.CharField(_("printed name"), max_length=300)
    signature_meaning = models.CharField(_("signature meaning"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    instructions = models.TextField(_("instructions"), blank=True)
    batch = models.ForeignKey(
        SigningBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions", db_index=False
    )

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return f"{self.get_verdict_display()} #{self.proposal_id} by {self.signer_name}"


class PostActionReview(models.Model):
    """The sampling draw for an executed action, and the review when it was sampled."""

    class Verdict(models.TextChoices):
        CONFIRM = "confirm", _("Confirm")
        FLAG = "flag", _("Flag")

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="post_review")
    state = models.CharField(_("state"), max_length=16, choices=ReviewState.choices)
    draw = models.FloatField(_("sampling draw"))
    sample_rate = models.FloatField(_("sample rate"))
    sampled_by = models.CharField(_("sampled by"), max_length=16, blank=True)  # "rate" or "daily_minimum"
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, null=True, blank=True, related_name="post_reviews")
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="post_reviews"
    )
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices, blank=True)
    rationale = models.TextField(_("rationale"), blank=True)
    correction = models.JSONField(_("correction"), null=True, blank=True)
    signer_name = models.CharField(_("printed name"), max_length=300, blank=True)
    signature_meaning = models.CharField(_("signature meaning"), max_length=64, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-action review")
        verbose_name_plural = _("post-action reviews")
        indexes = [models.Index(fields=["state", "sla_due_at"], name="postreview_state_due")]

    def __str__(self):
        return f"review of #{self.proposal_id} ({self.state})"


class IdempotencyRecord(models.Model):
    """The first response to an agent's Idempotency-Key, replayed on a retry."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "key"], name="unique_idempotency_key_per_agent")]

    def __str__(self):
        return f"{self.agent_id}:{self.key}"
