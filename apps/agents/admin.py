"""Admin of agents: registration, the suspension kill switch and key rotation, all through the services."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit.admin_mixins import AuditedModelAdmin, ReadOnlyInline
from hitlplatform.errors import DomainError

from .models import Agent, AgentKey
from .services import agent_create, agent_key_rotate, agent_resume, agent_suspend


class AgentKeyInline(ReadOnlyInline):
    model = AgentKey
    fields = ["prefix", "created_at", "revoked_at"]


@admin.register(Agent)
class AgentAdmin(AuditedModelAdmin):
    list_display = ["name", "owner", "status", "suspended_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "description", "owner__username"]
    readonly_fields = ["status", "suspended_at", "suspension_reason", "created_at"]
    fields = ["name", "description", "owner", "callback_url", *readonly_fields]
    inlines = [AgentKeyInline]
    actions = ["suspend", "resume", "rotate_key"]

    def get_readonly_fields(self, request, obj=None):
        # The name identifies the agent in routing rules and the audit trail.
        return [*self.readonly_fields, "name"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        agent, key = agent_create(
            name=obj.name,
            owner=obj.owner,
            callback_url=obj.callback_url,
            description=obj.description,
            actor=request.user,
        )
        obj.pk = agent.pk
        obj.refresh_from_db()
        _show_once(
            request, _("API key of %(agent)s (shown once, store it now): %(key)s") % {"agent": agent, "key": key}
        )
        _show_once(
            request, _("Webhook secret of %(agent)s: %(secret)s") % {"agent": agent, "secret": agent.webhook_secret}
        )

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail names agents for good; suspend one instead

    def log_addition(self, request, obj, message):
        # agent_create already recorded agent.created; only the admin's own log entry remains.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    @admin.action(description=gettext_lazy("Suspend the selected agents (kill switch)"), permissions=["change"])
    def suspend(self, request, queryset):
        reason = _("Suspended by %(admin)s in the admin.") % {"admin": request.user.get_username()}
        self._each(
            request,
            queryset,
            lambda agent: agent_suspend(agent=agent, reason=reason, actor=request.user),
            _("Suspended"),
        )

    @admin.action(description=gettext_lazy("Resume the selected agents"), permissions=["change"])
    def resume(self, request, queryset):
        reason = _("Resumed by %(admin)s in the admin.") % {"admin": request.user.get_username()}
        self._each(
            request, queryset, lambda agent: agent_resume(agent=agent, reason=reason, actor=request.user), _("Resumed")
        )

    @admin.action(description=gettext_lazy("Rotate the API key of the selected agents"), permissions=["change"])
    def rotate_key(self, request, queryset):
        for agent in queryset:
            key = agent_key_rotate(agent=agent, actor=request.user)
            _show_once(
                request,
                _("New API key of %(agent)s (shown once, store it now): %(key)s") % {"agent": agent, "key": key},
            )

    def _each(self, request, queryset, change, done: str):
        for agent in queryset:
            try:
                change(agent)
            except DomainError as error:
                self.message_user(request, f"{agent}: {error.message}", messages.WARNING)
            else:
                self.message_user(request, f"{done}: {agent}", messages.SUCCESS)


def _show_once(request, text: str) -> None:
    messages.warning(request, text)
