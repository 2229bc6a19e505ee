"""`app.register_blueprint(webhook_blueprint(secret, handle_event))` in a Flask app."""

from __future__ import annotations

from flask import Blueprint, request

from ..webhooks import SIGNATURE_HEADER
from . import Handler, Secret, event_or_none


def webhook_blueprint(
    secret: Secret, handler: Handler, *, url: str = "/hitl/webhook", name: str = "hitl_webhooks", tolerance: float = 300
) -> Blueprint:
    blueprint = Blueprint(name, __name__)

    @blueprint.post(url)
    def receive():
        event = event_or_none(secret, request.headers.get(SIGNATURE_HEADER), request.get_data(), tolerance)
        if event is None:
            return "invalid signature or body", 400
        handler(event)
        return "ok", 200

    return blueprint
