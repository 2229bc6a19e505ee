"""Probes and metrics for operators (DESIGN.md, Operations), outside /api/v1/.

/healthz: the process answers (no database, no broker). /readyz: the database and the broker answer,
else 503 naming what failed. /metrics: Prometheus text; with METRICS_TOKEN set, only for that bearer.
"""

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection
from prometheus_client import CONTENT_TYPE_LATEST

from hitlplatform.unavailable import RETRY_AFTER_SECONDS

from .metrics import metrics_text


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = {"database": _database_check(), "broker": _broker_check()}
    failed = {name: [problem] for name, problem in checks.items() if problem}
    if not failed:
        return JsonResponse({"status": "ready", "checks": dict.fromkeys(checks, "ok")})
    body = {
        "error": {
            "status": 503,
            "code": "not_ready",
            "message": _("Not ready: %(failed)s.") % {"failed": ", ".join(sorted(failed))},
            "fields": failed,
        },
        "status": "unavailable",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    response = JsonResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@never_cache
@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    if token:
        scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = HttpResponse(_("A bearer token is required."), status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


def _database_check() -> str:
    """Empty when the database answers, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        connection.close_if_unusable_or_obsolete()
        return f"{type(error).__name__}: {error}"[:300]
    return ""


def _broker_check() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ""  # tasks run inline: there is no broker to reach
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=settings.READYZ_BROKER_TIMEOUT_SECONDS,
        ) as broker:
            broker.ensure_connection(max_retries=1, timeout=settings.READYZ_BROKER_TIMEOUT_SECONDS)
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:300]
    return ""
