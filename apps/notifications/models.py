import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Queue
from apps.proposals.models import Proposal


class EventType(models.TextChoices):
    CREATED = "proposal.created", _("Proposal created")
    REMINDER = "proposal.reminder", _("SLA reminder")
    ESCALATED = "proposal.escalated", _("Proposal escalated")
    DECIDED = "proposal.decided", _("Proposal decided")
    EXPIRED = "proposal.expired", _("Proposal expired")
    FLAGGED = "proposal.flagged", _("Execution flagged")
    SIGNING_LOCKED = "auth.signing_locked", _("Signing locked")
    CHANGES_REQUESTED = "proposal.changes_requested", _("Changes requested")
    # To the admins: an escalation reached a queue where nobody may decide (DESIGN.md, Staffing).
    UNSTAFFED = "proposal.unstaffed", _("Escalated to an unstaffed queue")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")
    WEBHOOK = "webhook", _("Integrator webhook")


class QueueChannel(models.Model):
    """Where a queue's reviewers hear of new, due and escalated work besides email."""

    queue = models.OneToOneField(Queue, on_delete=models.CASCADE, related_name="channel", verbose_name=_("queue"))
    email_enabled = models.BooleanField(_("email the queue's reviewers"), default=True)
    slack_webhook_url = models.URLField(_("Slack incoming webhook URL"), max_length=500, blank=True)
    teams_webhook_url = models.URLField(_("Microsoft Teams incoming webhook URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("queue notification channel")
        verbose_name_plural = _("queue notification channels")

    def __str__(self):
        return str(self.queue)


class OutboxMessage(models.Model):
    """One delivery of one event to one channel, written in the transaction of the event."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead-lettered")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Shared by the messages of one event; the "id" an integrator de-duplicates webhooks by.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, db_index=True)
    event_type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("proposal")
    )
    target = models.TextField(_("target"), help_text=_("A URL, or the email recipients one per line."))
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), help_text=_("Exactly what is sent, every attempt."))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # When a task was last handed to the broker; the sweep re-sends what was lost.
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    # A delivering worker leases the message; an expired lease means that worker died.
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    give_up_at = models.DateTimeField(_("give up at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_state_next")]

    def __str__(self):
        return f"{self.event_type} {self.channel} {self.state}"


class AgentEvent(models.Model):
    """An integrator event as its agent reads it from `events/` and `events/stream/`.

    Written beside the webhook (same id and body), whether or not the agent has a callback URL.
    `id` orders the stream: rows are written under the audit chain's lock, so ids follow commits.
    """

    event_id = models.UUIDField(_("event id"), unique=True)
    agent = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="+", verbose_name=_("agent"), db_index=False
    )
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposal"))
    event_type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    body = models.TextField(_("body"), help_text=_("Exactly the webhook's body."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("agent event")
        verbose_name_plural = _("agent events")
        indexes = [models.Index(fields=["agent", "id"], name="agent_event_stream")]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    succeeded = models.BooleanField(_("succeeded"))
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["message", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="unique_attempt_number")]

    def __str__(self):
        return f"{self.message_id} #{self.number}"
