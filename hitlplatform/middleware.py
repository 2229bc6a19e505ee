"""Project-wide middleware: a request id on every log line and response, no caching of private pages.

Both work sync and async, so an async view (the long-polling waits) is not pushed onto a thread.
"""

import re
import uuid

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.utils.cache import patch_cache_control

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept when it looks like one; anything else could forge log lines.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class _Middleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        self.before(request)
        try:
            response = self.get_response(request)
        finally:
            self.finally_(request)
        return self.after(request, response)

    async def _acall(self, request):
        self.before(request)
        try:
            response = await self.get_response(request)
        finally:
            self.finally_(request)
        return self.after(request, response)

    def before(self, request):
        pass

    def finally_(self, request):
        pass

    def after(self, request, response):
        return response


class RequestIdMiddleware(_Middleware):
    """Binds `request_id` for structlog (every line the request logs) and returns it as X-Request-ID."""

    def before(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
        # Cleared at the start, not the end: Django logs the response ("Not Found: ...") after the
        # middleware has returned, and that line must carry the id too.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.request_id)

    def after(self, request, response):
        response[REQUEST_ID_HEADER] = request.request_id
        return response


class NoStoreMiddleware(_Middleware):
    """`Cache-Control: no-store` on every API response and every page a signed-in user gets:
    reviewers' pages and API answers hold personal and regulated data no cache may keep."""

    def after(self, request, response):
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
        return response

    async def _acall(self, request):
        # Async views are API endpoints; reading request.user here would be a database query in async code.
        response = await self.get_response(request)
        if request.path.startswith("/api/"):
            patch_cache_control(response, no_store=True, private=True)
        return response
