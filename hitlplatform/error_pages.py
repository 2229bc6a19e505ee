"""403, 404 and 500 pages inside the base layout: what happened and the way back.

API paths keep the one JSON error shape; everything else gets a page a reviewer can act on. An
unavailable database or broker is a 503 with Retry-After wherever it surfaces (never a 500).
"""

import sys
from dataclasses import dataclass

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hitlplatform.unavailable import RETRY_AFTER_SECONDS, is_unavailable

API_PREFIX = "/api/"


@dataclass(frozen=True)
class ErrorPage:
    code: str
    title: str
    heading: str
    reason: str = ""
    advice: str = ""


PAGES = {
    403: ErrorPage(
        code=gettext_lazy("Error 403"),
        title=gettext_lazy("Not allowed"),
        heading=gettext_lazy("You may not open this page"),
        advice=gettext_lazy(
            "If you need it for your work, ask an administrator to grant the role or the queue permission."
        ),
    ),
    404: ErrorPage(
        code=gettext_lazy("Error 404"),
        title=gettext_lazy("Not found"),
        heading=gettext_lazy("Nothing here"),
        advice=gettext_lazy(
            "A proposal you had open may have been decided, escalated to another queue, or withdrawn by its agent."
        ),
    ),
    500: ErrorPage(
        code=gettext_lazy("Error 500"),
        title=gettext_lazy("Something went wrong"),
        heading=gettext_lazy("Something went wrong on our side"),
        reason=gettext_lazy(
            "Nothing you signed was lost: a decision is stored completely or not at all. Try again in a moment."
        ),
    ),
}


def forbidden(request, exception=None):
    reason = _exception_text(exception) or _("Your role or your queue permissions do not include this page.")
    return _page(request, status=403, reason=reason, code="permission_denied")


def not_found(request, exception=None):
    reason = _exception_text(exception) or _("There is no page at this address, or it is not in your scope.")
    return _page(request, status=404, reason=reason, code="not_found")


def server_error(request):
    exception = sys.exc_info()[1]
    if exception is not None and is_unavailable(exception):
        message = _("The service is briefly unavailable; retry shortly.")
        if request.path.startswith(API_PREFIX):
            response = _json(status=503, code="unavailable", message=message)
        else:
            response = HttpResponse(message, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith(API_PREFIX):
        return _json(status=500, code="server_error", message=_("Something went wrong on our side."))
    # No request context (no user, no session): the error may be the database itself.
    return HttpResponseServerError(loader.get_template("error_page.html").render({"page": PAGES[500]}))


def _page(request, *, status: int, reason: str, code: str):
    if request.path.startswith(API_PREFIX):
        return _json(status=status, code=code, message=reason)
    context = {"page": PAGES[status], "reason": reason, "back_url": _back_url(request), "path": request.path}
    return render(request, "error_page.html", context, status=status)


def _json(*, status: int, code: str, message: str):
    return JsonResponse({"error": {"status": status, "code": code, "message": message, "fields": {}}}, status=status)


def _back_url(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return ""


def _exception_text(exception) -> str:
    """The reason our own code gave (Http404("No such proposal."), PermissionDenied(...)).

    Django's resolver passes a dict of diagnostics and get_object_or_404 names the model:
    neither is for users.
    """
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return ""
    text = exception.args[0]
    return "" if text.endswith("matches the given query.") else text
