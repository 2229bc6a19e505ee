"""Localized figures for the report and the compliance pages (inside translation.override)."""

from datetime import UTC, date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

DASH = "–"


@register.filter
def num(value) -> str:
    if value is None:
        return DASH
    return formats.number_format(value, force_grouping=True)


@register.filter
def pct(value) -> str:
    """A ratio 0..1 as a percentage with one decimal."""
    if value is None:
        return DASH
    return _("%(value)s%%") % {"value": formats.number_format(round(value * 100, 1), 1, force_grouping=True)}


@register.filter
def duration(seconds) -> str:
    if seconds is None:
        return DASH
    seconds = round(float(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": num(days), "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    if minutes and secs:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": secs}
    if minutes:
        return _("%(minutes)s min") % {"minutes": minutes}
    return ngettext("%(seconds)s s", "%(seconds)s s", secs) % {"seconds": secs}


@register.filter
def when(value) -> str:
    """A moment in UTC, localized (the report states that its times are UTC)."""
    if value is None:
        return DASH
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value, UTC)
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


@register.filter
def day(value) -> str:
    return _day_text(value, "DATE_FORMAT")


# A report waits this long in "queued" before the page says that no worker may be running.
QUEUED_HINT_SECONDS = 60


@register.filter
def waiting_for_a_worker(report) -> bool:
    """Queued at 0 % for a minute: nothing has picked the job up."""
    return (
        report.status == "queued"
        and not report.progress
        and (timezone.now() - report.created_at).total_seconds() > QUEUED_HINT_SECONDS
    )


@register.filter
def short_day(value) -> str:
    """A day as the web pages print it: the date part of their date-and-time format."""
    return _day_text(value, "SHORT_DATE_FORMAT")


def _day_text(value, date_format: str) -> str:
    """The day of a date or a moment in `date_format`; other values as they are."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = value.date()
    return formats.date_format(value, date_format) if isinstance(value, date) else str(value)
