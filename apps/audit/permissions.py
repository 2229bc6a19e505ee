"""Who may read the audit trail: compliance officers and admins, never an agent."""

from rest_framework.permissions import BasePermission

COMPLIANCE_GROUPS = ("compliance_officer", "admin")


def is_agent(principal) -> bool:
    return getattr(principal, "audit_actor_type", None) == "agent"


def is_compliance_officer(user) -> bool:
    if user is None or is_agent(user) or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.groups.filter(name__in=COMPLIANCE_GROUPS).exists()


def is_admin(user) -> bool:
    if user is None or is_agent(user) or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.groups.filter(name="admin").exists()


class IsComplianceOfficer(BasePermission):
    def has_permission(self, request, view):
        return is_compliance_officer(request.user)


class IsAdmin(BasePermission):
    def has_permission(self, request, view):
        return is_admin(request.user)
