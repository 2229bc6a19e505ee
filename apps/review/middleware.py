"""Session idle timeout and the Content-Security-Policy header of the web pages."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode

LAST_ACTIVITY_KEY = "last_activity"


class IdleTimeoutMiddleware:
    """Logs a signed-in user out after SESSION_IDLE_TIMEOUT seconds without a request.

    Logging out also ends the signing session, so the first signature after a timeout asks
    for the username again (21 CFR 11.200).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                return _to_login(request)
            # Written at most every few seconds, so most requests do not rewrite the session row.
            if last is None or now - last >= _resolution():
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Everything comes from this origin: no CDN, no inline script (settings.CONTENT_SECURITY_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        exempt = any(request.path.startswith(prefix) for prefix in settings.CONTENT_SECURITY_POLICY_EXEMPT_PATHS)
        if policy and not exempt and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


def _resolution() -> int:
    return max(1, min(60, settings.SESSION_IDLE_TIMEOUT // 10))


def _to_login(request):
    if getattr(request, "htmx", False):
        # htmx follows HX-Redirect with a full page load instead of swapping the login page in.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}"
        return response
    if request.path.startswith("/api/"):
        return HttpResponse(status=401)
    return redirect_to_login(request.get_full_path())
