"""API routes of the notifications app, mounted under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("events/", apis.events_api, name="events"),
    path("events/stream/", apis.events_stream_api, name="events-stream"),
]
