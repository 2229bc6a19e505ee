"""Safeguards of the electronic signature (21 CFR 11.300(d)): attempts are counted per user,
across the API and the web app, and too many wrong passwords lock the user's signing for a while.

A signature attempt first reserves its place in the count (a locked row, before the slow password
hash), so parallel guesses cannot pass the limit between them. The refused attempt's audit events
(`auth.signature_failed`, `auth.signing_locked`) are written in their own transaction and committed:
they are the record of the attempt, the one exception to "a refused request writes nothing". What
was to be signed is never written. A user that django-axes has locked out of login cannot sign either.
"""

import math
from collections.abc import Callable
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit.services import audit_record
from hitlplatform.errors import DomainError, InvalidInput

from .events import AccountEvents
from .models import SigningAttempts

# Why a signature attempt was refused before its password was checked (the audit event's "reason").
LOCKED = "locked"
BUSY = "too_many_at_once"
BUSY_RETRY_SECONDS = 1


class SigningLocked(DomainError):
    """429: signing is locked for `retry_after` seconds (sent as the Retry-After header)."""

    status_code = 429
    code = "signing_locked"
    default_message = gettext_lazy("Too many failed signatures: signing is locked for a while.")

    def __init__(self, message=None, *, retry_after: int, fields=None, code=None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, fields=fields, code=code)


def signature_check(*, user, password: str, username: str | None = None, on_locked: Callable | None = None):
    """Returns the user when `password` (and `username`, when asked) are theirs; raises SigningLocked
    (429) while signing is locked, InvalidInput (400) on a wrong signature.

    `on_locked(user=, until=)` runs in the transaction that locks the user's signing (notifications).
    """
    now = timezone.now()
    retry_after, reason = _reserve_attempt(user=user, now=now)
    if retry_after:
        with transaction.atomic():
            audit_record(
                action=AccountEvents.SIGNATURE_FAILED,
                actor=user,
                obj=user,
                data={"username": user.get_username(), "reason": reason},
            )
        if reason == BUSY:
            raise SigningLocked(
                _("Too many signatures of yours are being checked at once; retry in a moment."),
                retry_after=retry_after,
                code="signing_busy",
            )
        raise SigningLocked(retry_after=retry_after)
    if (username is None or username == user.get_username()) and password and user.check_password(password):
        SigningAttempts.objects.filter(user=user).update(failures=0, last_failure_at=None, locked_until=None)
        return user
    locked_until = _failure_record(user=user, now=now, on_locked=on_locked)
    if locked_until is not None:
        raise SigningLocked(retry_after=(locked_until - now).total_seconds())
    if username is not None and username != user.get_username():
        raise InvalidInput(
            _("The signature does not match the signed-in user."),
            fields={"username": [_("Wrong username.")]},
            code="signature_invalid",
        )
    raise InvalidInput(
        _("The signature failed: wrong password."),
        fields={"password": [_("Wrong password.")]},
        code="signature_invalid",
    )


def signing_locked_for(*, user, now=None) -> int:
    """Seconds until the user may sign again (0: now), from this module's count or django-axes' login lockout."""
    now = now or timezone.now()
    attempts = SigningAttempts.objects.filter(user=user).first()
    own = _seconds_until(attempts.locked_until, now) if attempts and attempts.locked_until else 0
    return max(own, _login_locked_for(user=user, now=now))


def _reserve_attempt(*, user, now) -> tuple[int, str]:
    """Counts the attempt before the password is checked; returns (seconds to wait, why), (0, "") to go on."""
    login_lock = _login_locked_for(user=user, now=now)
    if login_lock:
        return login_lock, LOCKED
    with transaction.atomic():
        attempts, _created = SigningAttempts.objects.select_for_update().get_or_create(user=user)
        if attempts.locked_until and attempts.locked_until > now:
            return _seconds_until(attempts.locked_until, now), LOCKED
        if attempts.last_failure_at and attempts.last_failure_at < now - _cooloff():
            attempts.failures = 0  # old mistakes are forgotten
        if attempts.failures >= settings.SIGNATURE_FAILURE_LIMIT:
            # Attempts still being checked hold every place left; no lock is in force (a lock is set
            # by a failure at the limit), so the answer is "in a moment", not the cool-off.
            return BUSY_RETRY_SECONDS, BUSY
        attempts.failures += 1
        attempts.locked_until = None
        attempts.save(update_fields=["failures", "locked_until"])
    return 0, ""


def _failure_record(*, user, now, on_locked) -> object:
    """Audits the failed attempt (already counted); locks signing at the limit. Returns the lock's end or None."""
    with transaction.atomic():
        attempts = SigningAttempts.objects.select_for_update().get(user=user)
        attempts.last_failure_at = now
        audit_record(
            action=AccountEvents.SIGNATURE_FAILED,
            actor=user,
            obj=user,
            data={"username": user.get_username(), "reason": "wrong_password", "failures": attempts.failures},
        )
        locked_until = None
        if attempts.failures >= settings.SIGNATURE_FAILURE_LIMIT:
            locked_until = attempts.locked_until = now + _cooloff()
            audit_record(
                action=AccountEvents.SIGNING_LOCKED,
                actor=user,
                obj=user,
                data={"username": user.get_username(), "failures": attempts.failures, "locked_until": locked_until},
            )
            if on_locked is not None:
                on_locked(user=user, until=locked_until)
        attempts.save(update_fields=["last_failure_at", "locked_until"])
    return locked_until


def _login_locked_for(*, user, now) -> int:
    """django-axes' lockout of this username (any address), as seconds left."""
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff is None:
        return 0
    attempt = (
        AccessAttempt.objects.filter(
            username=user.get_username(),
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=now - cooloff,
        )
        .order_by("-attempt_time")
        .first()
    )
    return _seconds_until(attempt.attempt_time + cooloff, now) if attempt else 0


def _cooloff() -> timedelta:
    return timedelta(minutes=settings.SIGNATURE_COOLOFF_MINUTES)


def _seconds_until(moment, now) -> int:
    return max(0, math.ceil((moment - now).total_seconds()))
