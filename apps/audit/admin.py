"""Read-only views of the chain and its checkpoints: nobody adds, changes or deletes here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from .admin_mixins import ReadOnlyAdmin
from .models import AuditEvent, Checkpoint


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "timestamp", "actor_type", "actor_id", "action", "object_type", "object_id"]
    list_filter = ["actor_type", "action"]
    search_fields = ["=seq", "action", "=actor_id", "=object_id", "=hash"]
    readonly_fields = [field.name for field in AuditEvent._meta.fields] + ["canonical_data"]
    date_hierarchy = "timestamp"
    show_full_result_count = False

    @admin.display(description=gettext_lazy("data"))
    def canonical_data(self, event):
        record = getattr(event, "data_record", None)
        return record.canonical_data if record else gettext_lazy("(redacted)")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "timestamp", "root_hash", "public_key"]
