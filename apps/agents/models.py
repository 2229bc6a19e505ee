import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _new_webhook_secret() -> str:
    return secrets.token_hex(32)


class Agent(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    # An agent authenticates API requests itself; DRF and the audit trail treat it as a principal.
    audit_actor_type = "agent"
    is_authenticated = True
    is_anonymous = False

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_agents",
        verbose_name=_("owner"),
    )
    callback_url = models.URLField(_("callback URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=64, default=_new_webhook_secret, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.TextField(_("suspension reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self):
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class AgentKey(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agent key")
        verbose_name_plural = _("agent keys")

    def __str__(self):
        return f"{self.agent} {self.prefix}"
