"""Writes of the accounts app: users, roles, queues, queue permissions, API tokens."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from apps.audit.services import audit_record
from hitlplatform.credentials import USER_TOKEN, credential_issue
from hitlplatform.errors import Conflict, InvalidInput

from .events import AccountEvents
from .models import ApiToken, Queue, ReviewerProfile, Role
from .selectors import REVIEW_QUEUE_PERMISSION

User = get_user_model()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    queues: list[str] = (),
    authorization_level: int = 1,
    licence_number: str = "",
    jurisdiction: str = "",
    licence_expires_on=None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor=None,
    validate: bool = True,
):
    if role not in Role.values:
        raise InvalidInput(fields={"role": [_("Unknown role %(role)s.") % {"role": role}]})
    if User.objects.filter(username=username).exists():
        raise Conflict(_("A user named %(username)s already exists.") % {"username": username})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.save()
    audit_record(action=AccountEvents.USER_CREATED, actor=actor, obj=user, data={"username": username})
    ReviewerProfile.objects.create(
        user=user,
        authorization_level=authorization_level,
        licence_number=licence_number,
        jurisdiction=jurisdiction,
        licence_expires_on=licence_expires_on,
    )
    role_grant(user=user, role=role, actor=actor)
    for slug in queues:
        queue_permission_grant(queue=queue_get_or_create(slug=slug, actor=actor), user=user, actor=actor)
    return user


@transaction.atomic
def role_grant(*, user, role: str, actor=None) -> None:
    group, _created = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    audit_record(
        action=AccountEvents.ROLE_GRANTED, actor=actor, obj=user, data={"role": role, "username": user.username}
    )


@transaction.atomic
def role_revoke(*, user, role: str, actor=None) -> None:
    user.groups.remove(*Group.objects.filter(name=role))
    audit_record(
        action=AccountEvents.ROLE_REVOKED, actor=actor, obj=user, data={"role": role, "username": user.username}
    )


@transaction.atomic
def queue_get_or_create(*, slug: str, name: str = "", actor=None):
    slug = slugify(slug)
    if not slug:
        raise InvalidInput(fields={"queue": [_("A queue needs a name.")]})
    queue, created = Queue.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    if created:
        audit_record(action=AccountEvents.QUEUE_CREATED, actor=actor, obj=queue, data={"slug": slug})
    return queue


@transaction.atomic
def queue_permission_grant(*, queue, user=None, group=None, actor=None) -> None:
    assign_perm(REVIEW_QUEUE_PERMISSION, user or group, queue)
    _queue_permission_audit(AccountEvents.PERMISSION_GRANTED, queue=queue, user=user, group=group, actor=actor)


@transaction.atomic
def queue_permission_revoke(*, queue, user=None, group=None, actor=None) -> None:
    remove_perm(REVIEW_QUEUE_PERMISSION, user or group, queue)
    _queue_permission_audit(AccountEvents.PERMISSION_REVOKED, queue=queue, user=user, group=group, actor=actor)


def _queue_permission_audit(action: str, *, queue, user, group, actor) -> None:
    data = {"permission": REVIEW_QUEUE_PERMISSION, **_principal_data(user, group)}
    audit_record(action=action, actor=actor, obj=queue, data=data)


@transaction.atomic
def token_create(*, user, name: str = "", actor=None) -> tuple[ApiToken, str]:
    """Returns the token row and its key, which is shown this once and never stored."""
    issued = credential_issue(kind=USER_TOKEN)
    token = ApiToken.objects.create(user=user, name=name, prefix=issued.prefix, key_hash=issued.key_hash)
    audit_record(
        action=AccountEvents.TOKEN_CREATED,
        actor=actor or user,
        obj=token,
        data={"user": user.username, "prefix": issued.prefix},
    )
    return token, issued.key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor=None) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        audit_record(action=AccountEvents.TOKEN_REVOKED, actor=actor, obj=token, data={"prefix": token.prefix})


def _principal_data(user, group) -> dict:
    if user is not None:
        return {"user": user.username}
    return {"group": group.name}


@transaction.atomic
def user_password_change(*, user, password: str, actor=None) -> None:
    """A new password (already validated by the form); the change itself is audited, never the password."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        action=AccountEvents.PASSWORD_CHANGED, actor=actor or user, obj=user, data={"username": user.get_username()}
    )
