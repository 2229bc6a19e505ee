"""Reads of the accounts app: roles and the queues a user may review."""

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from .models import DECIDING_ROLES, ApiToken, Queue, Role

REVIEW_QUEUE_PERMISSION = "accounts.review_queue"


def user_roles(user) -> frozenset[str]:
    if not getattr(user, "pk", None):
        return frozenset()
    cached = getattr(user, "_hitl_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {Role.ADMIN.value}
        user._hitl_roles = cached
    return cached


def user_has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def user_may_decide(user) -> bool:
    return user_has_role(user, *DECIDING_ROLES)


def user_sees_everything(user) -> bool:
    """Compliance officers and admins oversee every queue (read-only unless they also review)."""
    return user_has_role(user, Role.COMPLIANCE_OFFICER, Role.ADMIN)


def queues_reviewable_by(user) -> QuerySet[Queue]:
    return get_objects_for_user(user, REVIEW_QUEUE_PERMISSION, klass=Queue, accept_global_perms=False)


def api_token_for(prefix: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
