"""What the asynchronous API views (the waiting ones) share with the DRF views: bearer
authentication, input serializers, and the one error shape (hitlplatform/api/errors.py).

These views are plain `async def` Django views: DRF's APIView runs only synchronously. Their
database work goes through `hitlplatform.wakeups.database`, one thread per process, in as
few trips as they can.
"""

import functools

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from hitlplatform.api.authentication import BearerAuthentication
from hitlplatform.api.errors import _error_body, exception_handler
from hitlplatform.api.permissions import is_agent
from hitlplatform.errors import Forbidden
from hitlplatform.wakeups import TooManyWaits


def waiting_api(view):
    """Errors raised by an async API view answer in the one error shape, as DRF's views do."""

    @functools.wraps(view)
    async def answer(request, *args, **kwargs):
        if request.method != "GET":
            return json_response(_error_body(405, "method_not_allowed", _("Method not allowed."), {}), status=405)
        try:
            return await view(request, *args, **kwargs)
        except TooManyWaits:
            body = _error_body(429, "too_many_waits", _("Too many requests are waiting; retry later."), {})
            response = json_response(body, status=429)
            response["Retry-After"] = str(settings.WAIT_RETRY_AFTER_SECONDS)
            return response
        except Exception as error:
            # The DRF views' handler decides the status, the body and the headers: one error shape.
            handled = exception_handler(error, {})
            if handled is None:
                raise
            response = json_response(handled.data, status=handled.status_code)
            for header in ("Retry-After", "WWW-Authenticate"):
                if header in handled:
                    response[header] = handled[header]
            if handled.status_code == 401:
                response.setdefault("WWW-Authenticate", BearerAuthentication.keyword)
            return response

    answer.waiting = True  # served by the asynchronous handler (hitlplatform/asgi.py)
    return answer


def authenticated(request, *, agents_only: bool = False):
    """The caller of a bearer key or token (run it in the database thread); 401 without one,
    403 for a user where only agents may call."""
    authentication = BearerAuthentication().authenticate(request)
    if authentication is None:
        raise exceptions.NotAuthenticated()
    principal = authentication[0]
    if agents_only and not is_agent(principal):
        raise Forbidden(_("Only agents read their events."))
    return principal


def principal_key(principal) -> tuple[str, int]:
    return ("agent" if is_agent(principal) else "user", principal.pk)


def validated(serializer_class, query) -> dict:
    serializer = serializer_class(data=query)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def render(document) -> bytes:
    return JSONRenderer().render(document)


def json_response(document, *, status: int = 200) -> HttpResponse:
    body = document if isinstance(document, bytes) else render(document)
    return HttpResponse(body, status=status, content_type="application/json")


def schema_view(view, api_class):
    """drf-spectacular documents an APIView; the async view borrows the class its schema is on."""
    view.cls = api_class
    view.initkwargs = {}
    return view
