"""The production server's application: gunicorn with uvicorn workers (Procfile), one per process.

Waiting requests (the views marked by `waiting_api`: `wait/`, `events/`, `events/stream/`) go to
Django's asynchronous handler, where a waiter is a coroutine, not a thread. Every other request goes
to Django's WSGI handler in a pool of WEB_THREADS threads (a2wsgi), exactly as under gunicorn's
threaded workers: Django's ASGI handler would run each synchronous view in a thread of its own with a
database connection of its own (measured: intake fell to a fraction and PostgreSQL ran out of
connections; benchmarks/bench_waits.py compares the servers).
"""

import os
import signal
import threading

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
get_asgi_application()  # django.setup()

import asyncio  # noqa: E402

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.urls import Resolver404, get_resolver  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from hitlplatform import wakeups  # noqa: E402

# The waiting views take bearer keys only and answer JSON: no sessions, CSRF, logins or page
# headers. Each of these runs asynchronously; a synchronous one would hold the database thread
# (below) for as long as the view behind it waits.
WAITING_MIDDLEWARE = [
    "hitlplatform.ops.middleware.RequestMetricsMiddleware",
    "hitlplatform.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "hitlplatform.middleware.NoStoreMiddleware",
]


class WaitingHandler(ASGIHandler):
    """Django's ASGI handler without a thread per request: the few synchronous steps of a waiting
    request (signals, its reads) share the process's one database thread, which keeps one database
    connection however many requests wait."""

    async def __call__(self, scope, receive, send):
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async=False):
        for path in WAITING_MIDDLEWARE:
            if not getattr(import_string(path), "async_capable", False):
                raise ImproperlyConfigured(f"{path} cannot run asynchronously; the waiting views need that")
        everyone = settings.MIDDLEWARE
        settings.MIDDLEWARE = WAITING_MIDDLEWARE
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = everyone


class Application:
    def __init__(self):
        self.waiting = WaitingHandler()
        self.synchronous = WSGIMiddleware(WSGIHandler(), workers=settings.WEB_THREADS)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http" and is_waiting(scope["path"]):
            await self.waiting(scope, receive, send)
        else:
            await self.synchronous(scope, receive, send)

    async def lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _close_waits_on_shutdown_signals(asyncio.get_running_loop())
                wakeups.hub().start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                wakeups.hub().close()
                await send({"type": "lifespan.shutdown.complete"})
                return


WAITING_ENDINGS = ("/wait/", "/events/", "/events/stream/")


def is_waiting(path: str) -> bool:
    if not path.endswith(WAITING_ENDINGS):  # resolving every request's path twice costs more
        return False
    try:
        return getattr(get_resolver().resolve(path).func, "waiting", False)
    except Resolver404:
        return False


def _close_waits_on_shutdown_signals(loop) -> None:
    """The server drains its connections before it tells the application it stops: on its stop
    signal, waiters answer and streams end at once (clients reconnect elsewhere or after the restart)."""
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach only the main thread; the server's own timeout then ends the waits
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def handler(number, frame, previous=previous):
            loop.call_soon_threadsafe(wakeups.hubs_close)
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)


application = Application()
