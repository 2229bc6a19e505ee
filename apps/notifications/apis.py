"""The agent's events by long-poll (`events/`) and as Server-Sent Events (`events/stream/`).

The same events, ids and bodies as the webhooks (AgentEvent), for agents that cannot receive HTTP.
Both hold no thread while they wait: the event's NOTIFY wakes them (wakeups.py).
"""

import time
import uuid

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from hitlplatform.api.waiting import authenticated, json_response, principal_key, schema_view, validated, waiting_api
from hitlplatform.errors import InvalidInput
from hitlplatform.wakeups import TooManyWaits, database, hub

from .selectors import agent_event_position, agent_events_after


class WebhookEventSerializer(serializers.Serializer):
    """A webhook body, as events/ and events/stream/ serve it."""

    id = serializers.UUIDField()
    type = serializers.CharField()
    proposal = serializers.JSONField()


class EventsApi(APIView):
    """The schema of `events_api`."""

    class InputSerializer(serializers.Serializer):
        after = serializers.UUIDField(required=False, help_text="The id of the last event you have.")
        timeout = serializers.FloatField(min_value=0, max_value=60, default=30)

    @extend_schema(
        parameters=[InputSerializer],
        responses={200: OpenApiResponse(WebhookEventSerializer(many=True), description="Webhook bodies, oldest first")},
        summary="The agent's events, long-polling (agents)",
        description="The webhook events of the calling agent (same `id`, `type` and `proposal`), oldest first, "
        "after the event `after` (from the first without it); when none is newer, waits up to `timeout` "
        "seconds for one and answers `[]` if none came. At most EVENTS_MAX_PER_RESPONSE events an answer.",
    )
    def get(self, request):  # pragma: no cover - the URL routes to events_api
        raise NotImplementedError


class EventStreamApi(APIView):
    """The schema of `events_stream_api`."""

    @extend_schema(
        parameters=[
            OpenApiParameter("Last-Event-ID", OpenApiTypes.UUID, OpenApiParameter.HEADER),
            OpenApiParameter(
                "after", OpenApiTypes.UUID, description="As Last-Event-ID, for clients that set no header"
            ),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="text/event-stream")},
        summary="The agent's events as Server-Sent Events (agents)",
        description="`id:` is the event id, `event:` its type, `data:` the webhook body. Resumes after "
        "`Last-Event-ID`. A comment every EVENTS_KEEPALIVE_SECONDS keeps idle connections open; the "
        "stream ends when the server shuts down, and the client reconnects with Last-Event-ID.",
    )
    def get(self, request):  # pragma: no cover - the URL routes to events_stream_api
        raise NotImplementedError


@waiting_api
async def events_api(request):
    agent, fields, position, events = await database(_events_start, request)
    waits = hub()
    with waits.slot(caller=principal_key(agent)), waits.subscription(agent_id=agent.pk) as woken:
        deadline = time.monotonic() + fields["timeout"]
        if not events:
            # Subscribed only now: read once more, so nothing slips between that read and this wait.
            events = await _events(agent, position)
        while not events and not waits.closing and (left := deadline - time.monotonic()) > 0:
            if await waits.sleep(woken, left):
                events = await _events(agent, position)
    return json_response(b"[" + b",".join(body.encode() for _position, _id, _type, body in events) + b"]")


@waiting_api
async def events_stream_api(request):
    agent, position = await database(_stream_start, request)
    waits = hub()
    if not waits.has_room(caller=principal_key(agent)):
        raise TooManyWaits()
    response = StreamingHttpResponse(_stream(agent, position, waits), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a buffering proxy would hold the events back
    return response


schema_view(events_api, EventsApi)
schema_view(events_stream_api, EventStreamApi)


async def _stream(agent, position: int, waits):
    """The events, then each new one as it commits; a comment after each quiet keep-alive period.
    Leaving (the client went away, the server shuts down) releases the slot and the subscription."""
    with waits.slot(caller=principal_key(agent)), waits.subscription(agent_id=agent.pk) as woken:
        yield b"retry: 1000\n\n"
        while not waits.closing:
            events = await _events(agent, position)
            for position, event_id, event_type, body in events:  # noqa: B007 (the loop's last is where we are)
                data = body.replace("\n", "\ndata: ")
                yield f"id: {event_id}\nevent: {event_type}\ndata: {data}\n\n".encode()
            if events:
                continue
            if not await waits.sleep(woken, settings.EVENTS_KEEPALIVE_SECONDS) and not waits.closing:
                yield b": keep-alive\n\n"


async def _events(agent, position: int):
    return await database(
        lambda: agent_events_after(agent_id=agent.pk, position=position, limit=settings.EVENTS_MAX_PER_RESPONSE)
    )


def _events_start(request):
    """Caller, input, position and the first events: one trip to the database thread."""
    agent = authenticated(request, agents_only=True)
    fields = validated(EventsApi.InputSerializer, request.GET)
    position = _position(agent, fields.get("after"), field="after")
    events = agent_events_after(agent_id=agent.pk, position=position, limit=settings.EVENTS_MAX_PER_RESPONSE)
    return agent, fields, position, events


def _stream_start(request):
    agent = authenticated(request, agents_only=True)
    header = request.headers.get("Last-Event-ID", "").strip()
    field, last_event_id = ("Last-Event-ID", header) if header else ("after", request.GET.get("after", "").strip())
    return agent, _position(agent, _event_id(last_event_id, field=field), field=field)


def _position(agent, event_id, *, field: str) -> int:
    if event_id is None:
        return 0
    position = agent_event_position(agent_id=agent.pk, event_id=event_id)
    if position is None:
        _bad(field)
    return position


def _event_id(value: str, *, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        _bad(field)


def _bad(field: str):
    raise InvalidInput(_("Not the id of one of your events."), fields={field: [_("Not the id of one of your events.")]})
