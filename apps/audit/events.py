"""The audit app's own audit actions, declared once for the writer and every reader."""


class AuditEvents:
    ADMIN_DELETED = "admin.deleted"
    ADMIN_CHANGED = "admin.changed"
    ADMIN_ADDED = "admin.added"
    REDACTED = "audit.redacted"


# object_type of an event that refers to another audit event (a redaction names the event it erased)
EVENT_OBJECT_TYPE = "audit.auditevent"
