from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    AUTONOMOUS = "autonomous", _("Autonomous")
    POST_REVIEW = "post_review", _("Post-action review")
    PRE_APPROVAL = "pre_approval", _("Pre-approval")


class OnExpiry(models.TextChoices):
    REJECT = "reject", _("Reject (fail closed)")
    APPROVE = "approve", _("Approve by policy")


class ComplianceExposure(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    HIGH = "high", _("High")


class PolicyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    number = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    comment = models.TextField(_("comment"), blank=True)
    source = models.TextField(_("source (YAML)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="active"), name="one_active_policy")
        ]

    def __str__(self):
        return _("Policy v%(number)s (%(status)s)") % {"number": self.number, "status": self.get_status_display()}


class PolicyRule(models.Model):
    """One rule of a version. Rules never change: editing a policy makes a new version."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    priority = models.PositiveIntegerField(_("priority"))
    name = models.CharField(_("name"), max_length=100)
    agent = models.CharField(_("agent"), max_length=100, default="*", help_text=_("Agent name or * for any."))
    action_type = models.CharField(_("action type"), max_length=200, help_text=_("Glob, e.g. payments.*"))
    when = models.JSONField(_("conditions"), default=dict, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    min_confidence = models.FloatField(_("minimum confidence"), null=True, blank=True)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    queue = models.SlugField(_("queue"), max_length=64, default="default")
    sla = models.DurationField(_("SLA"), null=True, blank=True)
    escalation = models.JSONField(_("escalation queues"), default=list, blank=True)
    on_expiry = models.CharField(_("on expiry"), max_length=16, choices=OnExpiry.choices, default=OnExpiry.REJECT)
    sample_rate = models.FloatField(_("sample rate"), default=0.0)
    min_samples_per_day = models.PositiveIntegerField(_("minimum samples per day"), default=0)
    required_authorization_level = models.PositiveSmallIntegerField(_("required authorization level"), default=0)

    class Meta:
        ordering = ["version", "priority"]
        verbose_name = _("policy rule")
        verbose_name_plural = _("policy rules")
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="unique_rule_name_per_version")]

    def __str__(self):
        return self.name
