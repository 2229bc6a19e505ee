"""The SLA clock in a queue's business hours."""

from datetime import UTC, datetime, time, timedelta

import pytest

from apps.accounts.calendars import business_time_add, sla_deadlines
from apps.accounts.models import QueueCalendar
from tests.factories import QueueFactory

BERLIN_OFFICE = QueueCalendar(
    timezone="Europe/Berlin", working_days=[0, 1, 2, 3, 4], opens_at=time(9), closes_at=time(17)
)


def test_time_inside_business_hours_runs_like_the_wall_clock():
    monday_10_berlin = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert business_time_add(calendar=BERLIN_OFFICE, start=monday_10_berlin, duration=timedelta(hours=2)) == (
        datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    )


def test_the_clock_stops_overnight_and_over_the_weekend():
    # Friday 16:00 Berlin (15:00 UTC) plus 4 business hours: 1 h on Friday, 3 h on Monday from 09:00
    friday_16_berlin = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    due = business_time_add(calendar=BERLIN_OFFICE, start=friday_16_berlin, duration=timedelta(hours=4))
    assert due == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # Monday 12:00 Berlin


def test_a_start_before_opening_counts_from_opening():
    monday_06_berlin = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    due = business_time_add(calendar=BERLIN_OFFICE, start=monday_06_berlin, duration=timedelta(minutes=30))
    assert due == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_queue_without_calendar_uses_the_wall_clock_and_reminds_at_80_percent():
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday
    remind_at, due_at = sla_deadlines(queue=QueueFactory(slug="night-shift"), start=start, sla=timedelta(hours=10))
    assert (remind_at, due_at) == (start + timedelta(hours=8), start + timedelta(hours=10))


@pytest.mark.django_db
def test_a_queue_with_a_calendar_counts_business_hours():
    queue = QueueFactory(slug="office")
    QueueCalendar.objects.create(
        queue=queue, timezone="UTC", working_days=[0, 1, 2, 3, 4], opens_at=time(9), closes_at=time(17)
    )
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    _remind_at, due_at = sla_deadlines(queue=queue, start=saturday, sla=timedelta(hours=10))
    assert due_at == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # Monday 8 h, Tuesday 2 h
