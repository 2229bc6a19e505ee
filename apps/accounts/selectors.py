"""Reads of the accounts app: roles, the queues a user may review, and who staffs a queue."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from .models import DECIDING_ROLES, ApiToken, Queue, QueueGroupObjectPermission, QueueUserObjectPermission, Role

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


def queue_deciders(*, queue: Queue, authorization_level: int = 0, on=None) -> QuerySet:
    """Active users who may decide proposals in `queue`: the test `ensure_may_decide` applies.

    A deciding role, the queue's review permission (directly or through a group), and where a rule
    asks for an authorization level, that level and a licence valid on `on` (today by default).
    """
    users = get_user_model().objects.filter(is_active=True, groups__name__in=DECIDING_ROLES)
    # A superuser holds every permission, as `has_perm` answers for the decision.
    users = users.filter(
        Q(is_superuser=True)
        | Q(pk__in=_queue_grants(queue).values("user_id"))
        | Q(groups__in=QueueGroupObjectPermission.objects.filter(**_grant_filter(queue)).values("group_id"))
    )
    if authorization_level:
        day = on or timezone.localdate()
        users = users.filter(reviewer_profile__authorization_level__gte=authorization_level).filter(
            Q(reviewer_profile__licence_expires_on__isnull=True) | Q(reviewer_profile__licence_expires_on__gte=day)
        )
    return users.distinct()


def queue_staffing_gap(*, queue: Queue | None, authorization_level: int = 0, on=None) -> str:
    """Why nobody may decide in `queue` (a sentence), or "" when at least one user may."""
    if queue is None:
        return _("the queue does not exist, so nobody has its review permission")
    if queue_deciders(queue=queue, authorization_level=authorization_level, on=on).exists():
        return ""
    holders = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(pk__in=_queue_grants(queue).values("user_id"))
            | Q(groups__in=QueueGroupObjectPermission.objects.filter(**_grant_filter(queue)).values("group_id"))
        )
    )
    if not holders.exists():
        return _("no active user has the review permission of this queue")
    if not holders.filter(groups__name__in=DECIDING_ROLES).exists():
        return _("the users with this queue's permission have no deciding role (reviewer or senior reviewer)")
    return _("no reviewer with this queue's permission has authorization level %(level)s and an unexpired licence") % {
        "level": authorization_level
    }


def _queue_grants(queue: Queue) -> QuerySet:
    return QueueUserObjectPermission.objects.filter(**_grant_filter(queue))


def _grant_filter(queue: Queue) -> dict:
    app_label, codename = REVIEW_QUEUE_PERMISSION.split(".", 1)
    return {
        "content_object": queue,
        "permission__codename": codename,
        "permission__content_type__app_label": app_label,
    }
