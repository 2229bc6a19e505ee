"""The SLA clock: a due time is a start plus a duration, counted in the queue's business hours."""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from .models import Queue, QueueCalendar

# A calendar with no open day would never come due; after this many days the search gives up.
MAX_DAYS_SEARCHED = 366
_NONE = object()
_batch_cache: ContextVar[dict | None] = ContextVar("queue_calendars", default=None)


@contextmanager
def calendars_cached():
    """Within one batch transaction (the SLA sweep), read each queue's calendar once."""
    token = _batch_cache.set({})
    try:
        yield
    finally:
        _batch_cache.reset(token)


def business_time_add(*, calendar: QueueCalendar, start: datetime, duration: timedelta) -> datetime:
    zone = ZoneInfo(calendar.timezone)
    working_days = set(calendar.working_days)
    local = start.astimezone(zone)
    remaining = duration
    for _day in range(MAX_DAYS_SEARCHED):
        if local.weekday() in working_days:
            opens = datetime.combine(local.date(), calendar.opens_at, tzinfo=zone)
            closes = datetime.combine(local.date(), calendar.closes_at, tzinfo=zone)
            begin = max(local, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
        local = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start + duration


def sla_deadlines(*, queue, start: datetime, sla: timedelta) -> tuple[datetime, datetime]:
    """(reminder due, SLA due): the reminder at SLA_REMINDER_FRACTION of the SLA, on the same clock."""
    calendar = _calendar_of(queue) if queue else None
    remind = sla * settings.SLA_REMINDER_FRACTION
    if calendar is None:
        return start + remind, start + sla
    return (
        business_time_add(calendar=calendar, start=start, duration=remind),
        business_time_add(calendar=calendar, start=start, duration=sla),
    )


def _calendar_of(queue) -> QueueCalendar | None:
    if isinstance(queue, Queue) and Queue.calendar.is_cached(queue):  # read with the queue
        return getattr(queue, "calendar", None)
    queue_id = getattr(queue, "pk", queue)
    cache = _batch_cache.get()
    calendar = cache.get(queue_id, _NONE) if cache is not None else _NONE
    if calendar is _NONE:
        calendar = QueueCalendar.objects.filter(queue_id=queue_id).first()
        if cache is not None:
            cache[queue_id] = calendar
    return calendar
