"""Counts and times every request for /metrics, labelled by URL pattern (not path: ids would explode
the number of series)."""

import time

from hitlplatform.middleware import _Middleware

from .metrics import request_observe


class RequestMetricsMiddleware(_Middleware):
    def before(self, request):
        request._metrics_started = time.monotonic()

    def after(self, request, response):
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        request_observe(
            method=request.method if request.method in _METHODS else "other",
            route=route,
            status=response.status_code,
            seconds=time.monotonic() - request._metrics_started,
        )
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
