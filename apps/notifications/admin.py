from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.audit.admin_mixins import ReadOnlyAdmin, ReadOnlyInline

from .models import DeliveryAttempt, OutboxMessage, QueueChannel
from .services import outbox_message_resend


@admin.register(QueueChannel)
class QueueChannelAdmin(admin.ModelAdmin):
    list_display = ["queue", "email_enabled", "slack_webhook_url", "teams_webhook_url"]
    list_select_related = ["queue"]
    search_fields = ["queue__slug", "queue__name"]


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "duration_ms", "succeeded", "status_code", "error"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "event_type",
        "channel",
        "proposal_id",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "channel", "event_type"]
    search_fields = ["=event_id", "=proposal__id", "target"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_outboxmessage")

    @admin.action(description=_("Resend the selected messages"), permissions=["resend"])
    def resend(self, request, queryset):
        count = 0
        for message in queryset:
            outbox_message_resend(message=message, actor=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d message queued to be sent again.", "%(count)d messages queued to be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ["message", "number", "started_at", "succeeded", "status_code", "duration_ms"]
    list_filter = ["succeeded"]
    list_select_related = ["message"]
