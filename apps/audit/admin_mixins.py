"""Every change made in the Django admin lands in the audit trail, in the admin's transaction.

The admin wraps add, change and delete views in a transaction and calls these log hooks
there, so the audit event commits (or rolls back) with the change it records.
"""

from django.contrib import admin

from .events import AuditEvents
from .services import audit_record


class AuditedAdminMixin:
    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        _audit_admin_change(AuditEvents.ADMIN_ADDED, request, obj, message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        _audit_admin_change(AuditEvents.ADMIN_CHANGED, request, obj, message)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            _audit_admin_change(AuditEvents.ADMIN_DELETED, request, obj, "")
        return entries


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


def _audit_admin_change(action: str, request, obj, message) -> None:
    audit_record(
        action=action,
        actor=request.user,
        obj=obj,
        data={"model": obj._meta.label_lower, "object": str(obj), "change": _as_text(message)},
    )


def _as_text(message) -> str | list:
    # The admin passes either a plain string or its structured change list.
    if isinstance(message, str):
        return message
    return message or []
