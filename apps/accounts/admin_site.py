"""The admin site of the platform: every ModelAdmin registered on it, ours or a third party's
(django-axes, guardian, ...), records its additions, changes and deletions in the audit trail.

This module is named in INSTALLED_APPS in place of django.contrib.admin, so it imports no
model at module level.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class AuditedAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        from apps.audit.admin_mixins import AuditedAdminMixin

        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__, (AuditedAdminMixin, admin_class), {"__module__": admin_class.__module__}
            )
        super().register(model_or_iterable, admin_class, **options)


class AuditedAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.AuditedAdminSite"
