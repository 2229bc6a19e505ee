"""Admin of users (role and reviewer profile), queues (guardian object permissions) and API tokens.

Roles and queue permissions change only through the accounts services, so each grant and
revocation is an audit event of its own; everything else is audited by AuditedModelAdmin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from guardian.admin import (
    AdminGroupObjectPermissionsForm,
    AdminUserObjectPermissionsForm,
    GroupManage,
    GuardedModelAdmin,
    UserManage,
)

from apps.audit.admin_mixins import AuditedModelAdmin, ReadOnlyAdmin
from apps.audit.services import audit_record

from .events import AccountEvents
from .models import ApiToken, Queue, QueueCalendar, ReviewerProfile, Role
from .selectors import REVIEW_QUEUE_PERMISSION
from .services import queue_permission_grant, queue_permission_revoke, role_grant, role_revoke, token_revoke

User = get_user_model()
REVIEW_CODENAME = REVIEW_QUEUE_PERMISSION.split(".", 1)[1]


class ReviewerProfileInline(admin.StackedInline):
    model = ReviewerProfile
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name_plural = _("reviewer profile")


class UserRolesForm(UserChangeForm):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = list(
                self.instance.groups.filter(name__in=Role.values).values_list("name", flat=True)
            )


class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserRolesForm
    inlines = [ReviewerProfileInline]
    list_display = ["username", "first_name", "last_name", "roles_display", "is_active", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Role"), {"fields": ("roles", "is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined", "review_queues"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, (_("Queues"), {"fields": ("review_queues",)}))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("may review proposals in"))
    def review_queues(self, user):
        from .selectors import queues_reviewable_by

        queues = list(queues_reviewable_by(user).order_by("slug"))
        if not queues:
            return _("no queue yet: grant the permission on a queue's “Object permissions” page")
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:accounts_queue_permissions", args=[queue.pk]), queue.slug) for queue in queues),
        )

    @admin.display(description=_("roles"))
    def roles_display(self, user):
        return ", ".join(sorted(group.name for group in user.groups.all())) or "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "roles" not in form.cleaned_data:
            return
        user = form.instance
        current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        wanted = set(form.cleaned_data["roles"])
        for role in sorted(wanted - current):
            role_grant(user=user, role=role, actor=request.user)
        for role in sorted(current - wanted):
            role_revoke(user=user, role=role, actor=request.user)

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and isinstance(response, HttpResponseRedirect):
                user = self.get_object(request, id)
                audit_record(
                    action=AccountEvents.PASSWORD_CHANGED,
                    actor=request.user,
                    obj=user,
                    data={"username": user.get_username(), "by_admin": True},
                )
        return response


class GroupAdmin(AuditedModelAdmin, DjangoGroupAdmin):
    pass


class QueueUserPermissionsForm(AdminUserObjectPermissionsForm):
    """Only the review permission is managed per queue, and only through the audited services."""

    def get_obj_perms_field_choices(self):
        return [(REVIEW_CODENAME, _("Can review proposals in this queue"))]

    def save_obj_perms(self):
        _save_review_permission(self, user=self.user)


class QueueGroupPermissionsForm(AdminGroupObjectPermissionsForm):
    def get_obj_perms_field_choices(self):
        return [(REVIEW_CODENAME, _("Can review proposals in this queue"))]

    def save_obj_perms(self):
        _save_review_permission(self, group=self.group)


class QueueUserSelectForm(UserManage):
    """Guardian's user box, in words an administrator understands."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].label = _("Username")
        self.fields["user"].help_text = _("The username exactly as the person signs in, e.g. anna.schmidt.")
        self.fields["user"].error_messages["does_not_exist"] = _(
            "No user has this username. Check the spelling, or create the user first."
        )


class QueueGroupSelectForm(GroupManage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].label = _("Group")
        self.fields["group"].error_messages["does_not_exist"] = _("No group has this name.")


class QueueAdmin(AuditedModelAdmin, GuardedModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["created_at"]

    def get_obj_perms_user_select_form(self, request):
        return QueueUserSelectForm

    def get_obj_perms_group_select_form(self, request):
        return QueueGroupSelectForm

    # The forms are bound to the admin who saves them: the grant is audited as theirs.
    def get_obj_perms_manage_user_form(self, request):
        return type("QueueUserPermissionsForm", (QueueUserPermissionsForm,), {"actor": request.user})

    def get_obj_perms_manage_group_form(self, request):
        return type("QueueGroupPermissionsForm", (QueueGroupPermissionsForm,), {"actor": request.user})


class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are issued by `create_user --token` and shown once; here they are only revoked."""

    list_display = ["prefix", "user", "name", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__username", "name"]
    readonly_fields = ["user", "name", "prefix", "created_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = ["revoke_tokens"]

    @admin.action(description=_("Revoke the selected tokens"), permissions=["view"])
    def revoke_tokens(self, request, queryset):
        for token in queryset:
            token_revoke(token=token, actor=request.user)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


def _save_review_permission(form, *, user=None, group=None) -> None:
    wanted = REVIEW_CODENAME in set(form.cleaned_data[form.get_obj_perms_field_name()])
    held = REVIEW_CODENAME in set(form.get_obj_perms_field_initial())
    if wanted and not held:
        queue_permission_grant(queue=form.obj, user=user, group=group, actor=form.actor)
    elif held and not wanted:
        queue_permission_revoke(queue=form.obj, user=user, group=group, actor=form.actor)


if admin.site.is_registered(User):
    admin.site.unregister(User)
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(User, UserAdmin)
admin.site.register(Group, GroupAdmin)
admin.site.register(Queue, QueueAdmin)
admin.site.register(ApiToken, ApiTokenAdmin)


@admin.register(QueueCalendar)
class QueueCalendarAdmin(admin.ModelAdmin):
    list_display = ["queue", "timezone", "working_days", "opens_at", "closes_at"]
    list_select_related = ["queue"]
    search_fields = ["queue__slug", "queue__name"]
