"""Authentication events into the audit trail.

These receivers only translate Django's and django-axes' signals into audit events; they
hold no business logic (allowed by the project's no-signals rule for third-party signals).
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from apps.audit.services import audit_record

from .events import AccountEvents


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def audit_login(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(action=AccountEvents.LOGIN, actor=user, obj=user, data={"ip": _client_ip(request)})


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def audit_logout(sender, request, user, **kwargs):
    if user is None:  # the session had already ended
        return
    with transaction.atomic():
        audit_record(action=AccountEvents.LOGOUT, actor=user, obj=user, data={"ip": _client_ip(request)})


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the username is kept.
    with transaction.atomic():
        audit_record(
            action=AccountEvents.LOGIN_FAILED,
            data={"username": str(credentials.get("username", ""))[:150], "ip": _client_ip(request)},
        )


@receiver(user_locked_out, dispatch_uid="audit_user_locked_out")
def audit_locked_out(sender, request, username, ip_address, **kwargs):
    with transaction.atomic():
        audit_record(
            action=AccountEvents.LOCKED_OUT, data={"username": str(username or "")[:150], "ip": ip_address or ""}
        )


def _client_ip(request) -> str:
    if request is None:
        return ""
    # axes resolves the client address (honouring its proxy settings) and stores it on the request.
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
