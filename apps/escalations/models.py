from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Queue


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
        verbose_name = _("queue business hours")
        verbose_name_plural = _("queue business hours")

    def __str__(self):
        return f"{self.queue} {self.opens_at:%H:%M}-{self.closes_at:%H:%M} {self.timezone}"
