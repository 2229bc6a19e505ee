"""Who may call what: agents, reviewers, compliance officers, admins."""

from rest_framework.permissions import BasePermission

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role, user_may_decide
from apps.agents.models import Agent


def is_agent(principal) -> bool:
    return isinstance(principal, Agent)


class IsAgent(BasePermission):
    def has_permission(self, request, view):
        return is_agent(request.user)


class IsUser(BasePermission):
    def has_permission(self, request, view):
        return request.user is not None and not is_agent(request.user) and request.user.is_authenticated


class IsReviewer(IsUser):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and user_may_decide(request.user)


class IsComplianceOfficer(IsUser):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and user_has_role(
            request.user, Role.COMPLIANCE_OFFICER, Role.ADMIN
        )


class IsAgentOrAdmin(BasePermission):
    def has_permission(self, request, view):
        return is_agent(request.user) or IsAdmin().has_permission(request, view)


class IsAdmin(IsUser):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and user_has_role(request.user, Role.ADMIN)
