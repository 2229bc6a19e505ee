from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Role(models.TextChoices):
    REVIEWER = "reviewer", _("Reviewer")
    SENIOR_REVIEWER = "senior_reviewer", _("Senior reviewer")
    COMPLIANCE_OFFICER = "compliance_officer", _("Compliance officer")
    ADMIN = "admin", _("Administrator")


DECIDING_ROLES = (Role.REVIEWER, Role.SENIOR_REVIEWER)


class ReviewerProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile")
    licence_number = models.CharField(_("licence number"), max_length=64, blank=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=64, blank=True)
    licence_expires_on = models.DateField(_("licence expires on"), null=True, blank=True)
    authorization_level = models.PositiveSmallIntegerField(_("authorization level"), default=1)
    departments = models.JSONField(_("departments"), default=list, blank=True)

    class Meta:
        verbose_name = _("reviewer profile")
        verbose_name_plural = _("reviewer profiles")

    def __str__(self):
        return f"{self.user} ({self.licence_number or '-'})"

    def licence_valid_on(self, day) -> bool:
        return self.licence_expires_on is None or self.licence_expires_on >= day


class Queue(models.Model):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        permissions = [("review_queue", _("Can review proposals in this queue"))]

    def __str__(self):
        return self.name or self.slug


def _working_days_default() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (datetime.weekday())


class QueueCalendar(models.Model):
    """The business hours of a queue: its SLA clock runs only inside them."""

    queue = models.OneToOneField(Queue, on_delete=models.CASCADE, related_name="calendar", verbose_name=_("queue"))
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", help_text=_("e.g. Europe/Berlin"))
    working_days = models.JSONField(
        _("working days"), default=_working_days_default, help_text=_("Weekday numbers, Monday = 0 ... Sunday = 6.")
    )
    opens_at = models.TimeField(_("opens at"), default="09:00")
    closes_at = models.TimeField(_("closes at"), default="17:00")

    class Meta:
        # Moved from the escalations app (the proposals' SLA clock needs it); the table kept its name.
        db_table = "escalations_queuecalendar"
        verbose_name = _("queue business hours")
        verbose_name_plural = _("queue business hours")

    def __str__(self):
        return f"{self.queue} {self.opens_at:%H:%M}-{self.closes_at:%H:%M} {self.timezone}"


class QueueUserObjectPermission(UserObjectPermissionBase):
    """guardian's direct foreign key: one join instead of a generic content-type lookup."""

    content_object = models.ForeignKey(Queue, on_delete=models.CASCADE)


class QueueGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Queue, on_delete=models.CASCADE)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.user} {self.prefix}"


class SigningAttempts(models.Model):
    """Failed electronic-signature attempts of one user (21 CFR 11.300(d)); see accounts/signatures.py."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="signing_attempts"
    )
    failures = models.PositiveIntegerField(_("failed signatures"), default=0)
    last_failure_at = models.DateTimeField(_("last failed signature"), null=True, blank=True)
    locked_until = models.DateTimeField(_("signing locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing attempts")
        verbose_name_plural = _("signing attempts")

    def __str__(self):
        return f"{self.user_id}: {self.failures}"
