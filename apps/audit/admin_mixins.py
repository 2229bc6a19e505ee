"""The admin's two kinds of model: records the services keep, and settings an admin may change.

Records (decisions, audit events, outbox messages, ...) are read-only here: they change only
through the services, which audit them. Every change an admin makes elsewhere lands in the audit
trail, in the admin's transaction: the admin wraps add, change and delete views in a transaction
and calls these log hooks there, so the audit event commits (or rolls back) with the change.
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept by the services: listed and opened, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields or [field.name for field in self.model._meta.fields]


class ReadOnlyInline(admin.TabularInline):
    """The rows of a record shown under it, read-only (their `fields` are all read-only)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields
