"""A compliance report: the request, its generation state and the signed PDF."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.agents.models import Agent


class Report(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("Inclusive."))
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("agent")
    )
    action_type = models.CharField(_("action type"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", blank=True)
    size = models.BigIntegerField(_("size in bytes"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("compliance report")
        verbose_name_plural = _("compliance reports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="report_period_ordered"
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="report_progress_percent"),
        ]

    def __str__(self):
        return f"report #{self.pk} {self.period_start}..{self.period_end} ({self.status})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY
