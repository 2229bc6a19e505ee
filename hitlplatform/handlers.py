"""Error pages that know the API: under /api/ every error is the one JSON shape, and an unavailable
database or broker is a 503 with Retry-After wherever it surfaces (never a 500)."""

import logging
import sys

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from hitlplatform.unavailable import RETRY_AFTER_SECONDS, is_unavailable

logger = logging.getLogger(__name__)


def not_found(request, exception=None):
    if _is_api(request):
        return _json_error(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    exception = sys.exc_info()[1]
    if exception is not None and is_unavailable(exception):
        if _is_api(request):
            response = _json_error(503, "unavailable", _("The service is briefly unavailable; retry shortly."))
        else:
            response = HttpResponse(_("The service is briefly unavailable; retry shortly."), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return _json_error(500, "server_error", _("A server error occurred."))
    return defaults.server_error(request)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"status": status, "code": code, "message": message, "fields": {}}}, status=status)
