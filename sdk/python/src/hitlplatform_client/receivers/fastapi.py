"""`app.include_router(webhook_router(secret, handle_event))` in a FastAPI app (the handler may be async)."""

from __future__ import annotations

import inspect

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from ..models import Event
from ..webhooks import SIGNATURE_HEADER
from . import Handler, Secret, event_or_none


def webhook_router(
    secret: Secret, handler: Handler, *, path: str = "/hitl/webhook", tolerance: float = 300
) -> APIRouter:
    router = APIRouter()
    verified = verified_event_dependency(secret, tolerance=tolerance)

    @router.post(path, response_class=PlainTextResponse)
    async def receive(request: Request) -> str:
        event = await verified(request)
        result = handler(event)
        if inspect.isawaitable(result):
            await result
        return "ok"

    return router


def verified_event_dependency(secret: Secret, *, tolerance: float = 300):
    """A dependency (`event: Event = Depends(verified_event_dependency(secret))`) for your own route."""

    async def verified(request: Request) -> Event:
        event = event_or_none(secret, request.headers.get(SIGNATURE_HEADER), await request.body(), tolerance)
        if event is None:
            raise HTTPException(status_code=400, detail="invalid signature or body")
        return event

    return verified
