"""`path("hitl/webhook/", webhook_view(secret, handle_event))` in a Django project's urls."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..webhooks import SIGNATURE_HEADER
from . import Handler, Secret, event_or_none


def webhook_view(secret: Secret, handler: Handler, *, tolerance: float = 300):
    """A view that verifies X-HITL-Signature and calls `handler(event)`; 400 on a bad signature."""

    @csrf_exempt
    @require_POST
    def receive(request: HttpRequest) -> HttpResponse:
        event = event_or_none(secret, request.headers.get(SIGNATURE_HEADER), request.body, tolerance)
        if event is None:
            return HttpResponse("invalid signature or body", status=400, content_type="text/plain")
        handler(event)
        return HttpResponse("ok", content_type="text/plain")

    return receive
