"""Stored figures, recommendations and reviewer-QA assignments of the insights app."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.agents.models import Agent
from apps.policies.models import PolicyVersion
from apps.proposals.models import Decision, Proposal


class FigureSet(models.Model):
    """The figures of one agent x action type x rule over one window, as computed by one nightly run."""

    computed_at = models.DateTimeField(_("computed at"), db_index=True)
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    action_type = models.CharField(_("action type"), max_length=200)
    rule_name = models.CharField(_("rule"), max_length=100, blank=True)
    figures = models.JSONField(_("figures"))

    class Meta:
        ordering = ["-computed_at", "window_days", "agent_id", "action_type", "rule_name"]
        verbose_name = _("figure set")
        verbose_name_plural = _("figure sets")
        indexes = [models.Index(fields=["window_days", "-computed_at"], name="figureset_window_computed")]

    def __str__(self):
        return f"{self.agent_id}/{self.action_type}/{self.rule_name or '-'} {self.window_days}d"


class RecommendationKind(models.TextChoices):
    RELAX_TO_POST_REVIEW = "relax_to_post_review", _("Relax: post-action review with spot checks")
    LOWER_MIN_CONFIDENCE = "lower_min_confidence", _("Relax: lower the minimum confidence")
    RAISE_SAMPLE_RATE = "raise_sample_rate", _("Tighten: raise the sample rate")
    BACK_TO_PRE_APPROVAL = "back_to_pre_approval", _("Tighten: back to pre-approval")


RELAXING_KINDS = (RecommendationKind.RELAX_TO_POST_REVIEW, RecommendationKind.LOWER_MIN_CONFIDENCE)


class Recommendation(models.Model):
    """A proposed change of one rule, with its evidence. It never applies itself (see services)."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted: draft created")
        ACTIVATED = "activated", _("Activated")
        DISMISSED = "dismissed", _("Dismissed")

    kind = models.CharField(_("kind"), max_length=32, choices=RecommendationKind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    rule_name = models.CharField(_("rule"), max_length=100)
    change = models.JSONField(_("change"), help_text=_("The rule fields to set, in the YAML shape."))
    evidence = models.JSONField(_("evidence"))
    # kind, rule, change and policy version: the same advice is made once per version.
    fingerprint = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    draft_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="recommendations"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.rule_name}"

    @property
    def is_relaxing(self) -> bool:
        return self.kind in RELAXING_KINDS


class QaAssignment(models.Model):
    """A human decision sent to a blind second review by a senior reviewer."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Reviewed")

    class Verdict(models.TextChoices):
        APPROVE = "approve", _("Approve")
        MODIFY = "modify", _("Modify")
        REJECT = "reject", _("Reject")

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="qa_assignment")
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="qa_assignments")
    first_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Empty: any senior reviewer may take it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="qa_assignments"
    )
    sampled_by = models.CharField(_("sampled by"), max_length=16)  # "rate" or "manual"
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    second_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_verdict = models.CharField(_("second verdict"), max_length=16, choices=Verdict.choices, blank=True)
    rationale = models.TextField(_("rationale"), blank=True)
    agrees = models.BooleanField(_("agrees with the first verdict"), null=True)
    signer_name = models.CharField(_("printed name"), max_length=300, blank=True)
    signature_meaning = models.CharField(_("signature meaning"), max_length=64, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("QA assignment")
        verbose_name_plural = _("QA assignments")
        indexes = [models.Index(fields=["state", "created_at"], name="qa_state_created")]

    def __str__(self):
        return f"QA of decision {self.decision_id} ({self.state})"
