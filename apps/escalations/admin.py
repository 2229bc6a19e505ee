from django.contrib import admin

from .models import QueueCalendar


@admin.register(QueueCalendar)
class QueueCalendarAdmin(admin.ModelAdmin):
    list_display = ["queue", "timezone", "working_days", "opens_at", "closes_at"]
    list_select_related = ["queue"]
    search_fields = ["queue__slug", "queue__name"]
