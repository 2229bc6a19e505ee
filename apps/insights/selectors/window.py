"""The window a figure covers (7, 30 or 90 days up to now) and the agent it may be narrowed to."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Q,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from hitlplatform.errors import InvalidInput
from hitlplatform.ids import id_parse

WINDOWS = (7, 30, 90)


MAX_WINDOW_DAYS = 365


@dataclass(frozen=True)
class Window:
    days: int
    start: datetime
    end: datetime


def window_for(*, days, now: datetime | None = None) -> Window:
    """InvalidInput (400) for a window that is not a whole number of days from 1 to 365."""
    days = id_parse(days) or 0
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise InvalidInput(
            fields={"window": [_("The window is a whole number of days from 1 to %(max)s.") % {"max": MAX_WINDOW_DAYS}]}
        )
    end = now or timezone.now()
    return Window(days=days, start=end - timedelta(days=days), end=end)


def agent_for_insights(*, reference: str) -> Agent:
    """An agent by name or id; InvalidInput (400) when there is none, since it is a filter, not a resource."""
    match = Q(name=reference)
    if (agent_id := id_parse(reference)) is not None:
        match |= Q(pk=agent_id)
    agent = Agent.objects.filter(match).first()
    if agent is None:
        raise InvalidInput(fields={"agent": [_("No agent %(agent)s.") % {"agent": reference}]})
    return agent
